//! Channel rewards and redemptions (user token).

use kick_models::api::{ChannelReward, RedemptionFailure, RewardCreate, RewardUpdate};
use reqwest::Method;
use serde::Serialize;

use super::chat::encode_segment;
use crate::{Api, ApiError, transport::Call};

#[derive(Serialize)]
struct Ids<'a, S: AsRef<str>> {
    #[serde(serialize_with = "as_strs")]
    ids: &'a [S],
}

fn as_strs<S: AsRef<str>, Z: serde::Serializer>(
    ids: &&[S],
    serializer: Z,
) -> Result<Z::Ok, Z::Error> {
    serializer.collect_seq(ids.iter().map(AsRef::as_ref))
}

impl Api<'_> {
    /// The channel's rewards (`channel:rewards:read`).
    ///
    /// Scope: `channel:rewards:read` or `channel:rewards:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn rewards(&self) -> Result<Vec<ChannelReward>, ApiError> {
        self.client
            .data(Call::new(
                Method::GET,
                "/public/v1/channels/rewards",
                self.auth,
            ))
            .await
    }

    /// Creates a reward (`channel:rewards:write`).
    ///
    /// Scope: `channel:rewards:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn create_reward(&self, reward: &RewardCreate) -> Result<ChannelReward, ApiError> {
        let call =
            Call::new(Method::POST, "/public/v1/channels/rewards", self.auth).json(reward)?;
        self.client.data(call).await
    }

    /// Changes a reward this app created.
    ///
    /// Scope: `channel:rewards:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn update_reward(
        &self,
        id: &str,
        update: &RewardUpdate,
    ) -> Result<ChannelReward, ApiError> {
        let path = format!("/public/v1/channels/rewards/{}", encode_segment(id));
        let call = Call::new(Method::PATCH, path, self.auth).json(update)?;
        self.client.data(call).await
    }

    /// Deletes a reward this app created.
    ///
    /// Scope: `channel:rewards:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn delete_reward(&self, id: &str) -> Result<(), ApiError> {
        let path = format!("/public/v1/channels/rewards/{}", encode_segment(id));
        self.client
            .empty(Call::new(Method::DELETE, path, self.auth))
            .await
    }

    /// Accepts pending redemptions (1 to 25 ids). Returns only the ones that failed.
    ///
    /// Scope: `channel:rewards:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call; none or more than 25 ids: an `Invalid` error, nothing sent.
    pub async fn accept_redemptions<S: AsRef<str>>(
        &self,
        ids: &[S],
    ) -> Result<Vec<RedemptionFailure>, ApiError> {
        self.settle("/public/v1/channels/rewards/redemptions/accept", ids)
            .await
    }

    /// Rejects pending redemptions (1 to 25 ids). Returns only the ones that failed.
    ///
    /// Scope: `channel:rewards:write` (user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call; none or more than 25 ids: an `Invalid` error, nothing sent.
    pub async fn reject_redemptions<S: AsRef<str>>(
        &self,
        ids: &[S],
    ) -> Result<Vec<RedemptionFailure>, ApiError> {
        self.settle("/public/v1/channels/rewards/redemptions/reject", ids)
            .await
    }

    async fn settle<S: AsRef<str>>(
        &self,
        path: &'static str,
        ids: &[S],
    ) -> Result<Vec<RedemptionFailure>, ApiError> {
        ApiError::check_count("redemption ids", ids.len(), 1, 25)?;
        let mut call = Call::new(Method::POST, path, self.auth).json(&Ids { ids })?;
        call.idempotent = true; // settling twice gives NOT_PENDING, not a second effect
        self.client.data(call).await
    }
}
