//! `channel.subscription.gifts` v1.

use serde::{Deserialize, Serialize};

use crate::{Gifter, Timestamp, User};

/// Gifted subscriptions (`channel.subscription.gifts` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SubscriptionGifts {
    /// The channel.
    pub broadcaster: User,
    /// Who paid, or anonymous.
    #[serde(default)]
    pub gifter: Gifter,
    /// One entry per recipient.
    #[serde(default)]
    pub giftees: Vec<User>,
    /// When the gift was made.
    pub created_at: Timestamp,
    /// When the gifted subscriptions run out (absent before April 2025).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}
