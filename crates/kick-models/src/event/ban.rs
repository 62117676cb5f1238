//! `moderation.banned` v1.

use serde::{Deserialize, Serialize};

use crate::{Timestamp, User};

/// A user was banned or timed out (`moderation.banned` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Ban {
    /// The channel.
    pub broadcaster: User,
    /// Who banned.
    pub moderator: User,
    /// Who was banned.
    pub banned_user: User,
    /// Reason and duration.
    pub metadata: BanMetadata,
}

impl Ban {
    /// `true` for a permanent ban, `false` for a timeout.
    pub const fn is_permanent(&self) -> bool {
        self.metadata.expires_at.is_none()
    }

    /// A timeout's length in whole seconds (`None` for a permanent ban).
    pub fn timeout_secs(&self) -> Option<i64> {
        let expires = self.metadata.expires_at.as_ref()?;
        Some(
            expires
                .unix_seconds()
                .saturating_sub(self.metadata.created_at.unix_seconds()),
        )
    }
}

/// A ban's reason and times.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct BanMetadata {
    /// The reason given; may be empty.
    #[serde(default)]
    pub reason: String,
    /// When the ban was made.
    pub created_at: Timestamp,
    /// When a timeout ends; `None` for a permanent ban.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}
