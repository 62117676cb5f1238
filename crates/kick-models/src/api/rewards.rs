//! Channel rewards and redemptions (`/public/v1/channels/rewards`).

use serde::{Deserialize, Serialize};

use crate::{UserId, event::RedemptionStatus};

/// A channel-points reward.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ChannelReward {
    /// Reward id (ULID).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Price in points.
    pub cost: u64,
    /// `#rrggbb`.
    #[serde(default)]
    pub background_color: Option<String>,
    /// Enabled.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Paused.
    #[serde(default)]
    pub is_paused: Option<bool>,
    /// Asks the viewer for text.
    #[serde(default)]
    pub is_user_input_required: Option<bool>,
    /// Redemptions skip the request queue.
    #[serde(default)]
    pub should_redemptions_skip_request_queue: Option<bool>,
}

/// `POST /public/v1/channels/rewards` body.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RewardCreate {
    /// Title (at most 50 characters).
    pub title: String,
    /// Price (at least 1).
    pub cost: u64,
    /// Description (at most 200 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `#rrggbb` (Kick's default `#00e701`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_user_input_required: Option<bool>,
    /// Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub should_redemptions_skip_request_queue: Option<bool>,
}

/// `PATCH /public/v1/channels/rewards/{id}` body; unset fields are left alone.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct RewardUpdate {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<u64>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_paused: Option<bool>,
    /// Asks for input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_user_input_required: Option<bool>,
    /// Skips the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub should_redemptions_skip_request_queue: Option<bool>,
}

/// Redemptions of one reward (`GET …/rewards/redemptions`).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RedemptionGroup {
    /// The reward.
    pub reward: RedemptionReward,
    /// Its redemptions.
    #[serde(default)]
    pub redemptions: Vec<Redemption>,
}

/// The reward of a [`RedemptionGroup`].
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RedemptionReward {
    /// Reward id.
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Price.
    #[serde(default)]
    pub cost: u64,
    /// Whether this app may manage it.
    #[serde(default)]
    pub can_manage: Option<bool>,
    /// Whether it was deleted.
    #[serde(default)]
    pub is_deleted: Option<bool>,
}

/// One redemption.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Redemption {
    /// Redemption id (ULID).
    pub id: String,
    /// When redeemed.
    #[serde(default)]
    pub redeemed_at: String,
    /// Who redeemed.
    pub redeemer: Redeemer,
    /// Status.
    pub status: RedemptionStatus,
    /// The viewer's text.
    #[serde(default)]
    pub user_input: String,
}

/// A redeemer.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Redeemer {
    /// User id.
    pub user_id: UserId,
}

/// An accept/reject that did not apply.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RedemptionFailure {
    /// Redemption id.
    pub id: String,
    /// `UNKNOWN`, `NOT_PENDING`, `NOT_FOUND` or `NOT_OWNED`.
    pub reason: String,
}
