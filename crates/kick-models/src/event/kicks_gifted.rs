//! `kicks.gifted` v1.

use serde::{Deserialize, Serialize};

use crate::{Timestamp, User};

/// A user gifted KICKs to the channel (`kicks.gifted` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct KicksGifted {
    /// The channel (compact user).
    pub broadcaster: User,
    /// The giver (compact user).
    pub sender: User,
    /// What was given.
    pub gift: KicksGift,
    /// When.
    pub created_at: Timestamp,
}

/// A KICKs gift.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct KicksGift {
    /// Number of KICKs.
    pub amount: u64,
    /// Gift name, e.g. `Rage Quit`.
    pub name: String,
    /// Gift kind as Kick writes it, e.g. `BASIC`, `LEVEL_UP`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Tier as Kick writes it, e.g. `BASIC`, `MID`.
    pub tier: String,
    /// The sender's message; may be empty.
    #[serde(default)]
    pub message: String,
    /// How long the gift stays pinned in chat (absent before November 2025).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_time_seconds: Option<u64>,
}
