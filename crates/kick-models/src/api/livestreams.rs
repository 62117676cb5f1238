//! Livestreams (`/public/v2/livestreams`, `/public/v1/livestreams/stats`,
//! `/public/v1/users/livestreams`).

use serde::{Deserialize, Serialize};

use crate::{UserId, event::Category};

/// A live stream (v2 shape).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Livestream {
    /// Stream id.
    #[serde(default)]
    pub id: String,
    /// The streamer.
    pub broadcaster_user: LivestreamBroadcaster,
    /// The channel.
    pub channel: LivestreamChannel,
    /// Category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Mature flag.
    #[serde(default)]
    pub has_mature_content: bool,
    /// BCP 47 language code.
    #[serde(default)]
    pub language_code: String,
    /// Start time.
    #[serde(default)]
    pub started_at: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Thumbnail URL.
    #[serde(default)]
    pub thumbnail: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Viewers.
    #[serde(default)]
    pub viewer_count: u64,
}

/// The streamer of a [`Livestream`].
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LivestreamBroadcaster {
    /// User id.
    pub id: UserId,
    /// Name.
    #[serde(default)]
    pub username: String,
    /// Avatar URL.
    #[serde(default)]
    pub profile_picture: String,
}

/// The channel of a [`Livestream`].
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LivestreamChannel {
    /// Channel slug.
    pub slug: String,
}

/// `GET /public/v1/livestreams/stats`.
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LivestreamStats {
    /// Live streams on Kick right now.
    pub total_count: u64,
}

/// A live stream of a given broadcaster (`GET /public/v1/users/livestreams`): the v1 list's
/// item. Kick's docs added the endpoint recently and its exact shape is not confirmed, so every
/// field but the broadcaster's id is read leniently (absent: empty).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct UserLivestream {
    /// The streamer.
    pub broadcaster_user_id: UserId,
    /// The channel's id.
    #[serde(default)]
    pub channel_id: u64,
    /// The channel's slug.
    #[serde(default)]
    pub slug: String,
    /// Title.
    #[serde(default)]
    pub stream_title: String,
    /// Category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Custom tags.
    #[serde(default)]
    pub custom_tags: Vec<String>,
    /// Mature flag.
    #[serde(default)]
    pub has_mature_content: bool,
    /// Language code.
    #[serde(default)]
    pub language: String,
    /// The streamer's avatar URL.
    #[serde(default)]
    pub profile_picture: String,
    /// Start time.
    #[serde(default)]
    pub started_at: String,
    /// Thumbnail URL.
    #[serde(default)]
    pub thumbnail: String,
    /// Viewers.
    #[serde(default)]
    pub viewer_count: u64,
}
