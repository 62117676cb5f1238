//! `livestream.metadata.updated` v1.

use serde::{Deserialize, Serialize};

use crate::User;

/// Title, language, mature flag or category changed (`livestream.metadata.updated` v1).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LivestreamMetadata {
    /// The channel.
    pub broadcaster: User,
    /// The stream's metadata after the change.
    pub metadata: StreamMetadata,
}

/// A stream's metadata.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct StreamMetadata {
    /// The title.
    pub title: String,
    /// Language code, e.g. `en`.
    #[serde(default)]
    pub language: String,
    /// The mature-content flag.
    #[serde(default)]
    pub has_mature_content: bool,
    /// The category. Real deliveries spell the key `Category`; both spellings are read, and it
    /// is written as the docs spell it (`category`).
    #[serde(alias = "Category")]
    pub category: Category,
}

/// A stream category.
#[derive(Clone, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
pub struct Category {
    /// Category id.
    pub id: u64,
    /// Category name, e.g. `Just Chatting`.
    pub name: String,
    /// Thumbnail URL.
    #[serde(default)]
    pub thumbnail: String,
}
