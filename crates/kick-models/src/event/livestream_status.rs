//! `livestream.status.updated` v1.

use serde::{Deserialize, Serialize};

use crate::{Timestamp, User};

/// The stream went live or ended (`livestream.status.updated` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LivestreamStatus {
    /// The channel.
    pub broadcaster: User,
    /// `true`: started; `false`: ended.
    pub is_live: bool,
    /// The stream title.
    pub title: String,
    /// When the stream started.
    pub started_at: Timestamp,
    /// When it ended; `None` while live.
    #[serde(default)]
    pub ended_at: Option<Timestamp>,
}
