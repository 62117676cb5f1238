//! `channel.reward.redemption.updated` v1.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Timestamp, User};

/// A channel-points reward redeemed, or its redemption accepted or rejected
/// (`channel.reward.redemption.updated` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RewardRedemption {
    /// The redemption's id (ULID).
    pub id: String,
    /// What the viewer typed, when the reward asks for input.
    #[serde(default)]
    pub user_input: String,
    /// Where the redemption stands.
    pub status: RedemptionStatus,
    /// When it was redeemed.
    pub redeemed_at: Timestamp,
    /// The reward.
    pub reward: Reward,
    /// Who redeemed it (compact user).
    pub redeemer: User,
    /// The channel (compact user).
    pub broadcaster: User,
}

/// A channel-points reward.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Reward {
    /// The reward's id (ULID), stable across redemptions.
    pub id: String,
    /// Title shown to viewers.
    pub title: String,
    /// Price in channel points.
    pub cost: u64,
    /// Description; may be empty.
    #[serde(default)]
    pub description: String,
}

/// `pending`, `accepted` or `rejected`; any other value is kept.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[non_exhaustive]
#[serde(from = "String", into = "String")]
pub enum RedemptionStatus {
    /// Waiting for the streamer.
    Pending,
    /// Accepted.
    Accepted,
    /// Rejected (points refunded).
    Rejected,
    /// A value Kick may add later, kept verbatim.
    Unknown(String),
}

impl RedemptionStatus {
    /// The value as Kick writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Unknown(other) => other,
        }
    }
}

impl From<String> for RedemptionStatus {
    fn from(value: String) -> Self {
        match value.as_str() {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "rejected" => Self::Rejected,
            _ => Self::Unknown(value),
        }
    }
}

impl From<RedemptionStatus> for String {
    fn from(status: RedemptionStatus) -> Self {
        match status {
            RedemptionStatus::Unknown(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for RedemptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
