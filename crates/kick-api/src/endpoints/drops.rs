//! Drops claims (organisation apps, app token).

use kick_models::api::{DropClaimPage, DropClaimUpdate};
use reqwest::Method;
use serde::Serialize;

use crate::{Api, ApiError, transport::Call};

/// Filters for `GET /public/v1/drops/claims`.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct DropClaimQuery {
    /// One campaign.
    pub campaign_id: Option<String>,
    /// Page size, 1 to 1000 (Kick's default 10).
    pub limit: Option<u32>,
    /// Start after this claim id (the previous page's `cursor`).
    pub cursor: Option<String>,
    /// One viewer.
    pub user_id: Option<u64>,
    /// One claim.
    pub claim_id: Option<String>,
    /// Claims in this processing state (e.g. `initiated`).
    pub external_status: Option<String>,
}

#[derive(Serialize)]
struct Claims<'a> {
    claims: &'a [DropClaimUpdate],
}

impl Api<'_> {
    /// One page of Drops claims; pass the page's `cursor` in the query for the next one.
    ///
    /// Scope: none (the organisation app's app token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn drop_claims(&self, query: &DropClaimQuery) -> Result<DropClaimPage, ApiError> {
        let mut call = Call::new(Method::GET, "/public/v1/drops/claims", self.auth);
        if let Some(campaign) = &query.campaign_id {
            call = call.query("campaign_id", campaign);
        }
        if let Some(limit) = query.limit {
            call = call.query("limit", limit);
        }
        if let Some(cursor) = &query.cursor {
            call = call.query("cursor", cursor);
        }
        if let Some(user) = query.user_id {
            call = call.query("user_id", user);
        }
        if let Some(claim) = &query.claim_id {
            call = call.query("claim_id", claim);
        }
        if let Some(status) = &query.external_status {
            call = call.query("external_status", status);
        }
        self.client.data(call).await
    }

    /// Sets your processing state on claims (at most 100 a call; nothing is sent for none).
    ///
    /// Scope: none (the organisation app's app token).
    ///
    /// # Errors
    /// [`ApiError`] from the call; more than 100 updates: an `Invalid` error, nothing sent.
    pub async fn update_drop_claims(&self, updates: &[DropClaimUpdate]) -> Result<(), ApiError> {
        if updates.is_empty() {
            return Ok(());
        }
        ApiError::check_count("claim updates", updates.len(), 1, 100)?;
        let call = Call::new(Method::PATCH, "/public/v1/drops/claims", self.auth)
            .json(&Claims { claims: updates })?;
        self.client.empty(call).await
    }
}
