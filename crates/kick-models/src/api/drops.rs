//! Drops (`/public/v1/drops/claims`, organisation apps).

use serde::{Deserialize, Serialize};

use crate::UserId;

/// One claim of a Drops reward by a viewer.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct DropClaim {
    /// The claim's id (also the cursor for the next page).
    pub claim_id: String,
    /// The viewer who claimed.
    pub user_id: UserId,
    /// The campaign.
    #[serde(default)]
    pub campaign_id: String,
    /// The reward claimed.
    #[serde(default)]
    pub reward_id: String,
    /// Your own id for the claim, once you set one.
    #[serde(default)]
    pub external_id: String,
    /// Your processing state; Kick starts it at `initiated`.
    #[serde(default)]
    pub external_status: String,
    /// When it was claimed (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// When it last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
}

/// `GET /public/v1/drops/claims` answer: a page of claims and the cursor for the next one.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct DropClaimPage {
    /// The claims of this page.
    #[serde(default)]
    pub claims: Vec<DropClaim>,
    /// Pass as `cursor` for the next page; `None` (or empty) on the last.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub cursor: Option<String>,
}

/// One claim's new state, for `PATCH /public/v1/drops/claims` (at most 100 a call).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct DropClaimUpdate {
    /// The claim.
    pub claim_id: String,
    /// Your processing state for it (free text, e.g. `fulfilled`).
    pub external_status: String,
}
