//! Users, channels, moderation and KICKs.

use kick_models::{
    UserId,
    api::{BanRequest, Channel, ChannelPatch, KicksLeaderboard, UnbanRequest, UserInfo},
};
use reqwest::Method;

use crate::{Api, ApiError, transport::Call};

/// Channels one `GET /public/v1/channels` takes (by id or by slug).
const MAX_CHANNELS: usize = 50;

impl Api<'_> {
    /// Users by id; an empty list asks for the token's own user.
    ///
    /// Scope: `user:read` (user token), or an app token.
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn users(&self, ids: &[UserId]) -> Result<Vec<UserInfo>, ApiError> {
        let mut call = Call::new(Method::GET, "/public/v1/users", self.auth);
        for id in ids {
            call = call.query("id", id);
        }
        self.client.data(call).await
    }

    /// Channels by broadcaster id (at most 50); an empty list asks for the token's own channel.
    ///
    /// Scope: `channel:read` (user token), or an app token.
    ///
    /// # Errors
    /// [`ApiError`] from the call; more than 50 ids: an `Invalid` error, nothing sent.
    pub async fn channels_by_ids(&self, ids: &[UserId]) -> Result<Vec<Channel>, ApiError> {
        ApiError::check_count("broadcaster ids", ids.len(), 0, MAX_CHANNELS)?;
        let mut call = Call::new(Method::GET, "/public/v1/channels", self.auth);
        for id in ids {
            call = call.query("broadcaster_user_id", id);
        }
        self.client.data(call).await
    }

    /// Channels by slug (at most 50).
    ///
    /// Scope: `channel:read` (user token), or an app token.
    ///
    /// # Errors
    /// [`ApiError`] from the call; more than 50 slugs: an `Invalid` error, nothing sent.
    pub async fn channels_by_slugs<S: AsRef<str>>(
        &self,
        slugs: &[S],
    ) -> Result<Vec<Channel>, ApiError> {
        ApiError::check_count("channel slugs", slugs.len(), 0, MAX_CHANNELS)?;
        let mut call = Call::new(Method::GET, "/public/v1/channels", self.auth);
        for slug in slugs {
            call = call.query("slug", slug.as_ref());
        }
        self.client.data(call).await
    }

    /// Changes the token's channel: category, title, tags (`channel:write`).
    ///
    /// Scope: `channel:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn update_channel(&self, patch: &ChannelPatch) -> Result<(), ApiError> {
        let call = Call::new(Method::PATCH, "/public/v1/channels", self.auth).json(patch)?;
        self.client.empty(call).await
    }

    /// Bans a user, or times them out when `duration` (minutes) is set (`moderation:ban`).
    ///
    /// Scope: `moderation:ban` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn ban(&self, request: &BanRequest) -> Result<(), ApiError> {
        let mut call =
            Call::new(Method::POST, "/public/v1/moderation/bans", self.auth).json(request)?;
        call.idempotent = true; // banning twice leaves the same state
        self.client.empty(call).await
    }

    /// Lifts a ban or timeout (`DELETE` with a JSON body, as Kick documents).
    ///
    /// Scope: `moderation:ban` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn unban(&self, request: &UnbanRequest) -> Result<(), ApiError> {
        let call =
            Call::new(Method::DELETE, "/public/v1/moderation/bans", self.auth).json(request)?;
        self.client.empty(call).await
    }

    /// The KICKs leaderboard (`kicks:read`); `top` is 1 to 100 (Kick's default 10).
    ///
    /// Scope: `kicks:read` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn kicks_leaderboard(&self, top: Option<u32>) -> Result<KicksLeaderboard, ApiError> {
        let mut call = Call::new(Method::GET, "/public/v1/kicks/leaderboard", self.auth);
        if let Some(top) = top {
            call = call.query("top", top);
        }
        self.client.data(call).await
    }
}
