//! Public key and event subscriptions.

use kick_models::{
    SubscriptionId, UserId,
    api::{EventSubscription, PublicKeyData, SubscribeRequest, SubscribeResult},
};
use reqwest::Method;

use crate::{
    Api, ApiError, KickClient,
    transport::{Auth, Call},
};

impl KickClient {
    /// Kick's webhook signing key, PEM (`GET /public/v1/public-key`, no token needed).
    ///
    /// Scope: none, and no token.
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn public_key(&self) -> Result<String, ApiError> {
        let data: PublicKeyData = self
            .data(Call::new(Method::GET, "/public/v1/public-key", Auth::None))
            .await?;
        Ok(data.public_key)
    }
}

impl Api<'_> {
    /// The app's event subscriptions, optionally for one broadcaster. None is an empty list.
    ///
    /// Scope: none (app or user token).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn subscriptions(
        &self,
        broadcaster: Option<UserId>,
    ) -> Result<Vec<EventSubscription>, ApiError> {
        let mut call = Call::new(Method::GET, "/public/v1/events/subscriptions", self.auth);
        if let Some(broadcaster) = broadcaster {
            call = call.query("broadcaster_user_id", broadcaster);
        }
        self.client.data(call).await
    }

    /// Subscribes to several events in one call. The answer has one result per event: check
    /// each `error` (Kick answers 200 even when some fail).
    ///
    /// Scope: `events:subscribe` with a user token (the user's own channel); an app token
    /// subscribes any `broadcaster_user_id`.
    ///
    /// # Errors
    /// [`ApiError`] when the whole call fails (e.g. 400 "event subscription limit reached").
    pub async fn subscribe(
        &self,
        request: &SubscribeRequest,
    ) -> Result<Vec<SubscribeResult>, ApiError> {
        let call =
            Call::new(Method::POST, "/public/v1/events/subscriptions", self.auth).json(request)?;
        self.client.data(call).await
    }

    /// Deletes subscriptions by id (one call; nothing is sent for an empty list).
    ///
    /// Scope: `events:subscribe` with a user token, or an app token (safer: a user token fails once
    /// the user disconnects the app).
    ///
    /// # Errors
    /// [`ApiError`] from the call.
    pub async fn unsubscribe(&self, ids: &[SubscriptionId]) -> Result<(), ApiError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut call = Call::new(Method::DELETE, "/public/v1/events/subscriptions", self.auth);
        for id in ids {
            call = call.query("id", id.as_str());
        }
        self.client.empty(call).await
    }
}
