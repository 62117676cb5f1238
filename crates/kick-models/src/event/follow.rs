//! `channel.followed` v1.

use serde::{Deserialize, Serialize};

use crate::User;

/// A new follower (`channel.followed` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ChannelFollow {
    /// The channel followed.
    pub broadcaster: User,
    /// Who followed.
    pub follower: User,
}
