//! Users, public key, moderation, categories, KICKs.

use serde::{Deserialize, Serialize};

use crate::UserId;

/// `GET /public/v1/public-key` data.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct PublicKeyData {
    /// Kick's webhook signing key, PEM.
    pub public_key: String,
}

/// `GET /public/v1/users` entry.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct UserInfo {
    /// User id.
    pub user_id: UserId,
    /// Name.
    pub name: String,
    /// Email (only for the token's own user; `""` otherwise).
    #[serde(default)]
    pub email: String,
    /// Avatar URL.
    #[serde(default)]
    pub profile_picture: String,
}

/// `POST /public/v1/moderation/bans` body: a ban, or a timeout with `duration`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct BanRequest {
    /// The channel.
    pub broadcaster_user_id: UserId,
    /// Who to ban.
    pub user_id: UserId,
    /// Timeout in minutes (1 to 10080); `None` bans permanently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// Reason (at most 100 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `DELETE /public/v1/moderation/bans` body.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct UnbanRequest {
    /// The channel.
    pub broadcaster_user_id: UserId,
    /// Who to unban.
    pub user_id: UserId,
}

/// `GET /public/v2/categories` entry.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ApiCategory {
    /// Category id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Thumbnail URL.
    #[serde(default)]
    pub thumbnail: String,
}

/// `GET /public/v1/kicks/leaderboard` data.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
#[serde(default)]
pub struct KicksLeaderboard {
    /// All time.
    pub lifetime: Vec<LeaderboardEntry>,
    /// This month.
    pub month: Vec<LeaderboardEntry>,
    /// This week.
    pub week: Vec<LeaderboardEntry>,
}

/// One leaderboard row.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LeaderboardEntry {
    /// KICKs given.
    pub gifted_amount: u64,
    /// Rank.
    pub rank: u32,
    /// Giver's id.
    pub user_id: UserId,
    /// Giver's name.
    pub username: String,
}
