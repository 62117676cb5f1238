//! Tokens: the cached app token, user tokens and where they are kept.

use std::{
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use kick_models::api::TokenResponse;
use tokio::time::Instant;

use crate::{ApiError, ApiErrorKind, KickClient, Secret};

/// A user's tokens, as returned by the code exchange or a refresh.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct UserToken {
    /// The access token.
    pub access_token: Secret,
    /// The refresh token, when Kick gave one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
}

impl UserToken {
    pub(crate) fn from_response(response: TokenResponse, now: SystemTime) -> Self {
        Self {
            access_token: Secret::new(response.access_token),
            refresh_token: response.refresh_token.map(Secret::new),
            expires_at: now + Duration::from_secs(response.expires_in),
            scope: response.scope,
        }
    }

    /// The scopes Kick granted (from the token response's `scope`; empty when it said none).
    pub fn scopes(&self) -> Vec<crate::Scope> {
        self.scope
            .as_deref()
            .map(crate::Scope::parse_list)
            .unwrap_or_default()
    }

    /// `true` when less than a minute is left (or the token has expired).
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        self.expires_at
            .duration_since(now)
            .is_ok_and(|left| left < Duration::from_mins(1))
            || self.expires_at <= now
    }
}

/// Where a user's tokens live. Kick may rotate the refresh token on each refresh, so `save` is
/// called with every new token; keep the newest.
pub trait TokenStore: Send + Sync {
    /// The current token, if any.
    ///
    /// # Errors
    /// The store's own failure, as text.
    fn load(&self) -> Result<Option<UserToken>, String>;

    /// Replaces the token.
    ///
    /// # Errors
    /// The store's own failure, as text.
    fn save(&self, token: &UserToken) -> Result<(), String>;
}

/// A [`TokenStore`] in memory (lost at exit).
#[derive(Debug, Default)]
pub struct MemoryTokenStore(Mutex<Option<UserToken>>);

impl MemoryTokenStore {
    /// A store holding `token`.
    pub fn new(token: UserToken) -> Self {
        Self(Mutex::new(Some(token)))
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<UserToken>, String> {
        Ok(self.0.lock().map_err(|_| "token store poisoned")?.clone())
    }

    fn save(&self, token: &UserToken) -> Result<(), String> {
        *self.0.lock().map_err(|_| "token store poisoned")? = Some(token.clone());
        Ok(())
    }
}

/// Acts as one user: reads the token from its store, refreshes it before expiry or after a 401
/// (one refresh at a time), and saves every new token.
pub struct UserSession {
    store: Arc<dyn TokenStore>,
    refreshing: tokio::sync::Mutex<()>,
}

impl fmt::Debug for UserSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserSession").finish_non_exhaustive()
    }
}

impl UserSession {
    /// A session over `store`.
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        Self {
            store,
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// A valid access token, refreshed first when it is (nearly) expired or `force`d.
    pub(crate) async fn access_token(
        &self,
        client: &KickClient,
        force: bool,
    ) -> Result<Secret, ApiError> {
        let stale = self.load()?;
        if !force && !stale.needs_refresh(client.now()) {
            return Ok(stale.access_token);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        let current = self.load()?;
        if current.access_token != stale.access_token && !current.needs_refresh(client.now()) {
            return Ok(current.access_token); // another caller refreshed while we waited
        }
        let refresh = current.refresh_token.clone().ok_or_else(|| {
            ApiError::new(ApiErrorKind::Unauthorized {
                message: "the user token expired and there is no refresh token; authorise again"
                    .into(),
            })
        })?;
        let mut fresh = Box::pin(client.refresh_user_token(&refresh)).await?;
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = Some(refresh);
        }
        self.store
            .save(&fresh)
            .map_err(|why| ApiError::new(ApiErrorKind::Config(format!("token store: {why}"))))?;
        Ok(fresh.access_token)
    }

    fn load(&self) -> Result<UserToken, ApiError> {
        self.store
            .load()
            .map_err(|why| ApiError::new(ApiErrorKind::Config(format!("token store: {why}"))))?
            .ok_or_else(|| {
                ApiError::new(ApiErrorKind::Config(
                    "no user token stored; authorise first".into(),
                ))
            })
    }
}

/// The app access token, cached in memory only.
#[derive(Default)]
pub(crate) struct AppTokenCache {
    slot: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

impl AppTokenCache {
    /// The cached token while it has more than a minute (or a tenth of its life) left, else a
    /// new one. Concurrent callers share one fetch: they wait on the same lock and then find
    /// the fresh token.
    pub(crate) async fn get(&self, client: &KickClient, force: bool) -> Result<Secret, ApiError> {
        let mut slot = self.slot.lock().await;
        if let Some((token, refresh_at)) = slot.as_ref()
            && !force
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        // Boxed: fetching a token is itself a call, which may need a token (never for OAuth).
        let response = Box::pin(client.fetch_app_token()).await?;
        let lifetime = Duration::from_secs(response.expires_in);
        let margin = (lifetime / 10).max(Duration::from_mins(1)).min(lifetime);
        let token = Secret::new(response.access_token);
        *slot = Some((
            token.clone(),
            Instant::now() + lifetime.saturating_sub(margin),
        ));
        Ok(token)
    }

    /// Forgets the token unless it has already been replaced.
    pub(crate) async fn invalidate(&self, used: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|(token, _)| token == used) {
            *slot = None;
        }
    }
}
