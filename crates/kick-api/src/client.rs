//! `KickClient` and its builder.

use std::{fmt, sync::Arc, time::Duration, time::SystemTime};

use reqwest::Url;

use crate::{ApiError, ApiErrorKind, RetryPolicy, Secret, token::AppTokenCache};

/// Kick's REST API host.
pub(crate) const DEFAULT_API_BASE: &str = "https://api.kick.com";
/// Kick's OAuth host.
pub(crate) const DEFAULT_OAUTH_BASE: &str = "https://id.kick.com";

/// A client for Kick's public API and OAuth server. Cheap to clone (shares the connection pool
/// and the app token).
#[derive(Clone)]
pub struct KickClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) api_base: Url,
    pub(crate) oauth_base: Url,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) retry: RetryPolicy,
    pub(crate) app_token: AppTokenCache,
    pub(crate) clock: fn() -> SystemTime,
}

impl fmt::Debug for KickClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KickClient")
            .field("api_base", &self.inner.api_base.as_str())
            .field("oauth_base", &self.inner.oauth_base.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &self.inner.client_secret)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl KickClient {
    /// A builder with Kick's hosts, 10 s timeouts and the default retry policy.
    pub fn builder() -> KickClientBuilder {
        KickClientBuilder::default()
    }

    pub(crate) fn now(&self) -> SystemTime {
        (self.inner.clock)()
    }

    pub(crate) fn credentials(&self) -> Result<(&str, &Secret), ApiError> {
        match (&self.inner.client_id, &self.inner.client_secret) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => Err(ApiError::new(ApiErrorKind::Config(
                "this call needs the app's client id and client secret (KickClientBuilder::credentials)".into(),
            ))),
        }
    }
}

/// The wall clock. The one place this crate reads it; tests replace it through the builder.
#[allow(clippy::disallowed_methods)]
fn system_now() -> SystemTime {
    SystemTime::now()
}

/// Builds a [`KickClient`].
#[derive(Debug)]
#[must_use]
pub struct KickClientBuilder {
    api_base: String,
    oauth_base: String,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    clock: fn() -> SystemTime,
}

impl Default for KickClientBuilder {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.into(),
            oauth_base: DEFAULT_OAUTH_BASE.into(),
            client_id: None,
            client_secret: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            user_agent: concat!("kick-api/", env!("CARGO_PKG_VERSION")).into(),
            clock: system_now,
        }
    }
}

impl KickClientBuilder {
    /// The app's client id and secret (needed for app tokens and OAuth).
    pub fn credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.client_id = Some(client_id.into());
        self.client_secret = Some(client_secret.into());
        self
    }

    /// Another REST base URL (default `https://api.kick.com`).
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base = url.into();
        self
    }

    /// Another OAuth base URL (default `https://id.kick.com`).
    pub fn oauth_base_url(mut self, url: impl Into<String>) -> Self {
        self.oauth_base = url.into();
        self
    }

    /// Whole-request timeout (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retry policy; [`RetryPolicy::none`] turns retries off.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The wall clock used for user-token expiry and `Retry-After` dates (for tests).
    pub fn clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ApiErrorKind::Config`] for a base URL that is not `http(s)`, or when the HTTP client
    /// cannot be built.
    pub fn build(self) -> Result<KickClient, ApiError> {
        let base = |text: &str, what: &str| -> Result<Url, ApiError> {
            let url = Url::parse(text).map_err(|err| {
                ApiError::new(ApiErrorKind::Config(format!("{what} {text:?}: {err}")))
            })?;
            if matches!(url.scheme(), "http" | "https") && url.has_host() {
                Ok(url)
            } else {
                Err(ApiError::new(ApiErrorKind::Config(format!(
                    "{what} {text:?} must be an http(s) URL"
                ))))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|err| {
                ApiError::with_source(ApiErrorKind::Config("HTTP client".into()), err)
            })?;
        Ok(KickClient {
            inner: Arc::new(Inner {
                http,
                api_base: base(&self.api_base, "api base URL")?,
                oauth_base: base(&self.oauth_base, "oauth base URL")?,
                client_id: self.client_id,
                client_secret: self.client_secret,
                retry: self.retry,
                app_token: AppTokenCache::default(),
                clock: self.clock,
            }),
        })
    }
}
