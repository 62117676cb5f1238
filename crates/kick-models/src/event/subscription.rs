//! `channel.subscription.new` v1 and `channel.subscription.renewal` v1 (one shape).

use serde::{Deserialize, Serialize};

use crate::{Timestamp, User};

/// A new or renewed subscription (`channel.subscription.new` / `.renewal` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Subscription {
    /// The channel subscribed to.
    pub broadcaster: User,
    /// The subscriber.
    pub subscriber: User,
    /// Months subscribed (cumulative for renewals).
    pub duration: u64,
    /// When the subscription started or renewed.
    pub created_at: Timestamp,
    /// When it runs out (absent before April 2025).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}
