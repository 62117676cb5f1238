//! Channels (`/public/v1/channels`).

use serde::{Deserialize, Serialize};

use crate::{UserId, event::Category};

/// A channel.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Channel {
    /// The owner's user id.
    pub broadcaster_user_id: UserId,
    /// The channel slug.
    pub slug: String,
    /// Stream title.
    #[serde(default)]
    pub stream_title: String,
    /// Channel description.
    #[serde(default)]
    pub channel_description: String,
    /// Banner URL.
    #[serde(default)]
    pub banner_picture: String,
    /// Current category (sometimes empty).
    #[serde(default)]
    pub category: Option<Category>,
    /// Current stream state.
    #[serde(default)]
    pub stream: Option<ChannelStream>,
    /// Active subscribers (owner only).
    #[serde(default)]
    pub active_subscribers_count: u64,
    /// Cancelled subscribers (owner only).
    #[serde(default)]
    pub canceled_subscribers_count: u64,
}

/// A channel's stream object.
#[derive(Clone, Default, Deserialize, Eq, PartialEq, Serialize)]
#[serde(default)]
pub struct ChannelStream {
    /// Whether live.
    pub is_live: bool,
    /// Mature flag.
    pub is_mature: bool,
    /// Language code.
    pub language: String,
    /// Start time (Go zero time when offline).
    pub start_time: String,
    /// Thumbnail URL.
    pub thumbnail: String,
    /// Viewers (0 when hidden).
    pub viewer_count: u64,
    /// Custom tags.
    pub custom_tags: Vec<String>,
    /// The stream key: only for the channel's owner, with the `streamkey:read` scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The ingest URL the key is for: only for the owner, with `streamkey:read`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The stream key is a secret: `Debug` (and so logs) shows only whether there is one.
impl std::fmt::Debug for ChannelStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelStream")
            .field("is_live", &self.is_live)
            .field("is_mature", &self.is_mature)
            .field("language", &self.language)
            .field("start_time", &self.start_time)
            .field("thumbnail", &self.thumbnail)
            .field("viewer_count", &self.viewer_count)
            .field("custom_tags", &self.custom_tags)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("url", &self.url)
            .finish()
    }
}

/// `PATCH /public/v1/channels` body; unset fields are left alone.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct ChannelPatch {
    /// New category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_id: Option<u64>,
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_title: Option<String>,
    /// New custom tags (at most 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_tags: Option<Vec<String>>,
}
