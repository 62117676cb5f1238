//! Sending one rendered request and classifying the answer, shared by every output.

use std::time::{Duration, SystemTime};

use reqwest::{
    Client, StatusCode, Url,
    header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER},
    redirect::Policy,
};

use crate::{ConfigError, RenderedRequest, SendOutcome};

/// Longest wait a receiver can ask for; longer `Retry-After` values are capped to this.
const MAX_RETRY_AFTER: Duration = Duration::from_hours(24);
/// How much of an error response is read for the delivery record.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// How much of an error response is kept in the reason text.
const MAX_REASON_BODY_CHARS: usize = 200;

/// Timeouts for an output's requests.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Whole request, from connecting to the last response byte.
    pub timeout: Duration,
    /// Connecting alone.
    pub connect_timeout: Duration,
}

impl HttpOptions {
    /// `timeout` for a whole request, `connect_timeout` for connecting.
    pub const fn new(timeout: Duration, connect_timeout: Duration) -> Self {
        Self {
            timeout,
            connect_timeout,
        }
    }
}

impl Default for HttpOptions {
    /// 15 s per request (Standard Webhooks suggests 15 to 30 s), 5 s to connect.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Where an output sends: an `http` or `https` URL with a host, checked once. It holds secrets
/// (a Discord webhook's token, a tool's key in the path or query): it is never printed.
#[derive(Clone, Eq, PartialEq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// Checks `text`.
    ///
    /// # Errors
    /// [`ConfigError::Url`]: not a URL, a scheme other than `http`/`https`, no host (the
    /// message never repeats the URL).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let url = Url::parse(text).map_err(|err| ConfigError::Url(err.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Url(format!(
                "scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::Url("no host".into()));
        }
        Ok(Self(url))
    }
}

impl std::str::FromStr for WebhookUrl {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text)
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl(<redacted>)")
    }
}

/// Where an output sends, and how. Never printed with its URL.
#[derive(Clone)]
pub(crate) struct Target {
    client: Client,
    url: Url,
}

impl Target {
    pub(crate) fn new(url: WebhookUrl, options: HttpOptions) -> Result<Self, ConfigError> {
        let WebhookUrl(url) = url;
        let client = Client::builder()
            .redirect(Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("kick-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ConfigError::Client(err.without_url().to_string()))?;
        Ok(Self { client, url })
    }

    pub(crate) fn url_mut(&mut self) -> &mut Url {
        &mut self.url
    }

    /// The URL's path (for Discord: `/api/webhooks/{id}/{token}`, which names the webhook).
    /// Holds a secret: never print it.
    pub(crate) fn path(&self) -> &str {
        self.url.path()
    }

    /// POSTs `request` once and classifies the answer. `discord` reads Discord's 429 body and
    /// its `10015` unknown-webhook code.
    pub(crate) async fn post(
        &self,
        request: &RenderedRequest,
        extra_headers: &[(&str, String)],
        now: SystemTime,
        discord: bool,
    ) -> SendOutcome {
        match self.post_raw(request, extra_headers).await {
            Ok(answer) => classify(answer.status, &answer.headers, &answer.body, now, discord),
            Err(failed) => failed,
        }
    }

    /// POSTs `request` once: the answer (the body only when it is not a success), or the
    /// outcome of a request that got no answer or could not be made.
    pub(crate) async fn post_raw(
        &self,
        request: &RenderedRequest,
        extra_headers: &[(&str, String)],
    ) -> Result<RawAnswer, SendOutcome> {
        let mut headers = HeaderMap::with_capacity(request.headers.len() + extra_headers.len());
        let pairs = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(extra_headers.iter().map(|(n, v)| (*n, v.as_str())));
        for (name, value) in pairs {
            match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                (Ok(name), Ok(value)) => {
                    headers.append(name, value);
                }
                _ => {
                    return Err(SendOutcome::Permanent {
                        status: 0,
                        reason: format!("header {name:?} cannot be sent"),
                    });
                }
            }
        }
        let response = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .body(request.body.clone())
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = if status.is_success() {
                    Vec::new()
                } else {
                    read_bounded(response).await
                };
                Ok(RawAnswer {
                    status,
                    headers,
                    body,
                })
            }
            Err(err) => Err(transport_failure(&err)),
        }
    }
}

/// An HTTP answer, before classification.
pub(crate) struct RawAnswer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a response body.
async fn read_bounded(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

/// A request that got no HTTP answer. The URL is stripped from the error (it may hold a token).
fn transport_failure(err: &reqwest::Error) -> SendOutcome {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    SendOutcome::Retry {
        status: None,
        after: None,
        rate_limited: false,
        reason: if detail.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}: {detail}")
        },
    }
}

/// Maps an HTTP answer to an outcome.
pub(crate) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    discord: bool,
) -> SendOutcome {
    let code = status.as_u16();
    let reason = || format!("HTTP {code}{}", body_excerpt(body));
    if status.is_success() {
        return SendOutcome::Delivered {
            status: code,
            wait: empty_bucket_wait(headers),
        };
    }
    if status.is_redirection() {
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| format!(" to {l}"))
            .unwrap_or_default();
        return SendOutcome::Permanent {
            status: code,
            reason: format!(
                "HTTP {code}: redirect{location} not followed; point the output at the final URL"
            ),
        };
    }
    match code {
        429 => SendOutcome::Retry {
            status: Some(code),
            after: rate_limit_wait(headers, body, now, discord),
            rate_limited: true,
            reason: reason(),
        },
        408 | 425 | 500..=599 => SendOutcome::Retry {
            status: Some(code),
            after: retry_after(headers, now),
            rate_limited: false,
            reason: reason(),
        },
        401 | 403 | 404 | 410 => SendOutcome::Disable {
            status: code,
            reason: if discord && code == 404 && discord_code(body) == Some(10015) {
                "HTTP 404, Discord code 10015: unknown webhook (it was deleted); create a new \
                 webhook and update the output"
                    .to_owned()
            } else {
                reason()
            },
        },
        _ => SendOutcome::Permanent {
            status: code,
            reason: reason(),
        },
    }
}

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        let mut excerpt: String = text.chars().take(MAX_REASON_BODY_CHARS).collect();
        if excerpt.len() < text.len() {
            excerpt.push('…');
        }
        format!(": {excerpt}")
    }
}

/// Discord's JSON error `code`.
fn discord_code(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("code")?
        .as_u64()
}

/// How long a 429 asks us to wait: Discord's body `retry_after` (seconds, fractional), then
/// `Retry-After`, then the bucket's `X-RateLimit-Reset-After`.
fn rate_limit_wait(
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    discord: bool,
) -> Option<Duration> {
    let from_body = discord
        .then(|| serde_json::from_slice::<serde_json::Value>(body).ok())
        .flatten()
        .and_then(|json| json.get("retry_after")?.as_f64())
        .and_then(seconds);
    from_body
        .or_else(|| retry_after(headers, now))
        .or_else(|| header_seconds(headers, "x-ratelimit-reset-after"))
}

/// After a success: wait out the bucket when Discord says it is empty.
fn empty_bucket_wait(headers: &HeaderMap) -> Option<Duration> {
    let remaining = headers.get("x-ratelimit-remaining")?.to_str().ok()?.trim();
    if remaining.parse::<f64>().ok()? > 0.0 {
        return None;
    }
    header_seconds(headers, "x-ratelimit-reset-after")
}

fn header_seconds(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    seconds(value.parse().ok()?)
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or_default()
            .min(MAX_RETRY_AFTER),
    )
}

/// Non-negative, finite seconds, capped at [`MAX_RETRY_AFTER`].
fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::try_from_secs_f64(secs).unwrap_or(MAX_RETRY_AFTER))
        .map(|d| d.min(MAX_RETRY_AFTER))
}
