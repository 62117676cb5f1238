//! Paginated lists: livestreams, categories, redemptions; and livestream stats.

use kick_models::{
    UserId,
    api::{ApiCategory, Livestream, LivestreamStats, RedemptionGroup, UserLivestream},
    event::RedemptionStatus,
};
use reqwest::Method;

use crate::{Api, ApiError, Pages, transport::Call};

/// Filters for `GET /public/v2/livestreams`.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct LivestreamQuery {
    /// Page size, 1 to 1000 (Kick's default 100).
    pub limit: Option<u32>,
    /// Categories (at most 25).
    pub category_ids: Vec<u64>,
    /// BCP 47 language codes (at most 25).
    pub language_codes: Vec<String>,
}

/// Filters for `GET /public/v2/categories`. Kick's filters are sent as one comma-separated value
/// each, as Kick's own clients do.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct CategoryQuery {
    /// Page size, 1 to 1000.
    pub limit: Option<u32>,
    /// Name search terms.
    pub names: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Category ids.
    pub ids: Vec<u64>,
}

/// Filters for `GET /public/v1/channels/rewards/redemptions`.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct RedemptionQuery {
    /// One reward.
    pub reward_id: Option<String>,
    /// Only redemptions in this state.
    pub status: Option<RedemptionStatus>,
    /// Specific redemptions (cannot be combined with the other filters).
    pub ids: Vec<String>,
}

fn join<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl<'a> Api<'a> {
    /// Live streams, oldest first, page by page.
    ///
    /// Scope: none (app or user token).
    pub fn livestreams(&self, query: &LivestreamQuery) -> Pages<'a, Livestream> {
        let mut params = Vec::new();
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        params.extend(
            query
                .category_ids
                .iter()
                .map(|id| ("category_id", id.to_string())),
        );
        params.extend(
            query
                .language_codes
                .iter()
                .map(|code| ("language_code", code.clone())),
        );
        Pages::new(*self, "/public/v2/livestreams", params)
    }

    /// The live streams of the given broadcasters (1 to 100 ids): the way to ask whether given
    /// channels are live. Broadcasters who are offline are not in the list.
    ///
    /// Scope: none (app or user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call; none or more than 100 ids: an `Invalid` error, nothing sent.
    pub async fn users_livestreams(
        &self,
        broadcaster_ids: &[UserId],
    ) -> Result<Vec<UserLivestream>, ApiError> {
        ApiError::check_count("broadcaster ids", broadcaster_ids.len(), 1, 100)?;
        let mut call = Call::new(Method::GET, "/public/v1/users/livestreams", self.auth);
        for id in broadcaster_ids {
            call = call.query("user_id", id);
        }
        self.client.data(call).await
    }

    /// How many streams are live on Kick.
    ///
    /// Scope: none (app or user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn livestream_stats(&self) -> Result<LivestreamStats, ApiError> {
        self.client
            .data(Call::new(
                Method::GET,
                "/public/v1/livestreams/stats",
                self.auth,
            ))
            .await
    }

    /// Categories, page by page.
    ///
    /// Scope: none (app or user token).
    pub fn categories(&self, query: &CategoryQuery) -> Pages<'a, ApiCategory> {
        let mut params = Vec::new();
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        if !query.names.is_empty() {
            params.push(("name", join(&query.names)));
        }
        if !query.tags.is_empty() {
            params.push(("tag", join(&query.tags)));
        }
        if !query.ids.is_empty() {
            params.push(("id", join(&query.ids)));
        }
        Pages::new(*self, "/public/v2/categories", params)
    }

    /// Redemptions grouped by reward, page by page (`channel:rewards:read`).
    ///
    /// Scope: `channel:rewards:read` or `channel:rewards:write` (user token).
    pub fn redemptions(&self, query: &RedemptionQuery) -> Pages<'a, RedemptionGroup> {
        let mut params = Vec::new();
        if let Some(reward) = &query.reward_id {
            params.push(("reward_id", reward.clone()));
        }
        if let Some(status) = &query.status {
            params.push(("status", status.as_str().to_owned()));
        }
        params.extend(query.ids.iter().map(|id| ("id", id.clone())));
        Pages::new(*self, "/public/v1/channels/rewards/redemptions", params)
    }
}
