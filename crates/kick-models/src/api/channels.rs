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
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
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
