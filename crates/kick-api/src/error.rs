//! One opaque error type with a kind.

use std::{error::Error as StdError, fmt, time::Duration};

/// Longest excerpt of a response body kept in an error.
pub(crate) const MAX_BODY_EXCERPT: usize = 512;

/// What went wrong with a call to Kick. `Display` says what failed; the underlying error (the
/// transport's, the JSON decoder's) is its [`source`](StdError::source).
#[derive(Debug)]
pub struct ApiError {
    kind: ApiErrorKind,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// The kind of [`ApiError`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// The connection failed or broke (after retries, when enabled).
    Transport,
    /// Kick did not answer in time (after retries, when enabled).
    Timeout,
    /// Kick answered with an error status. `message` and `data` come from Kick's
    /// `{data, message}` envelope (or OAuth's `error`/`error_description`); `data` keeps whatever
    /// JSON type Kick sent (object, `null`, string).
    Status {
        /// HTTP status.
        status: u16,
        /// Kick's message, or the status' reason.
        message: String,
        /// Kick's `data`.
        data: serde_json::Value,
    },
    /// The answer was not the JSON expected; `body` holds its first 512 characters.
    Decode {
        /// Excerpt of the body.
        body: String,
    },
    /// 429 after the allowed retries (or with retries off, or a wait longer than allowed).
    RateLimited {
        /// What Kick's `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// 401 even after getting a fresh token once.
    Unauthorized {
        /// Kick's message.
        message: String,
    },
    /// The client is missing something for this call (e.g. client credentials).
    Config(String),
    /// The call breaks one of Kick's documented limits (too many ids, say): nothing was
    /// sent. Says which limit.
    Invalid(String),
}

impl ApiError {
    pub(crate) fn new(kind: ApiErrorKind) -> Self {
        Self { kind, source: None }
    }

    pub(crate) fn with_source(
        kind: ApiErrorKind,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn decode(body: &[u8], source: impl StdError + Send + Sync + 'static) -> Self {
        let text = String::from_utf8_lossy(body);
        Self::with_source(
            ApiErrorKind::Decode {
                body: text.chars().take(MAX_BODY_EXCERPT).collect(),
            },
            source,
        )
    }

    /// Checks that `count` items are within `min..=max` for `what` (Kick's documented limit),
    /// before anything is sent.
    pub(crate) fn check_count(
        what: &str,
        count: usize,
        min: usize,
        max: usize,
    ) -> Result<(), Self> {
        if (min..=max).contains(&count) {
            return Ok(());
        }
        Err(Self::new(ApiErrorKind::Invalid(format!(
            "{count} {what}; Kick takes {min} to {max} a request"
        ))))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ApiErrorKind {
        &self.kind
    }

    /// The HTTP status, when Kick answered.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ApiErrorKind::Status { status, .. } => Some(*status),
            ApiErrorKind::RateLimited { .. } => Some(429),
            ApiErrorKind::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ApiErrorKind::Transport => f.write_str("could not reach Kick")?,
            ApiErrorKind::Timeout => f.write_str("Kick did not answer in time")?,
            ApiErrorKind::Status {
                status,
                message,
                data,
            } => {
                write!(f, "Kick answered {status}: {message}")?;
                match data {
                    serde_json::Value::Null => {}
                    serde_json::Value::Object(map) if map.is_empty() => {}
                    serde_json::Value::String(text) => write!(f, " ({text})")?,
                    other => write!(f, " ({other})")?,
                }
            }
            ApiErrorKind::Decode { body } => write!(f, "unexpected answer from Kick: {body}")?,
            ApiErrorKind::RateLimited {
                retry_after: Some(wait),
            } => {
                write!(f, "rate limited by Kick; retry after {wait:?}")?;
            }
            ApiErrorKind::RateLimited { retry_after: None } => {
                f.write_str("rate limited by Kick")?;
            }
            ApiErrorKind::Unauthorized { message } => {
                write!(
                    f,
                    "Kick refused the token (401: {message}); check the client credentials or re-authorise"
                )?;
            }
            ApiErrorKind::Config(what) => write!(f, "client not configured: {what}")?,
            ApiErrorKind::Invalid(what) => write!(f, "not sent: {what}")?,
        }
        // The cause is `source()`, not part of this text: an error chain (anyhow's `{:#}`,
        // tracing) prints each link once.
        Ok(())
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}
