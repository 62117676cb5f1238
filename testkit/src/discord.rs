//! A Discord stand-in that refuses like Discord does, so tests meet the limits users meet.
//!
//! Per webhook: a bucket of 5 requests per 2 s, announced in `X-RateLimit-*` headers on every
//! answer. Per channel: 30 messages per 60 s, announced nowhere (a 429 with
//! `X-RateLimit-Scope: shared` when exceeded). Per process: a global limit of 50 requests per
//! second (a 429 with `"global": true`). Payloads: `content` over 2000 characters, more than
//! 10 embeds or over 6000 embed characters is `400` with code 50035; a message with neither
//! content nor embeds is `400` with code 50006. `?wait=true` answers with a message object.
//! Every request, every 429 and every 400 is counted; messages it took are kept.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// Requests per bucket window per webhook.
pub const BUCKET_LIMIT: usize = 5;
/// The bucket's window.
pub const BUCKET_WINDOW: Duration = Duration::from_secs(2);
/// Messages per channel per [`CHANNEL_WINDOW`] (hidden).
pub const CHANNEL_LIMIT: usize = 30;
/// The channel limit's window.
pub const CHANNEL_WINDOW: Duration = Duration::from_mins(1);
/// Requests per second across everything (the global limit).
pub const GLOBAL_LIMIT: usize = 50;

/// A message Discord took.
#[derive(Clone, Debug)]
pub struct Posted {
    /// Its `content`.
    pub content: String,
    /// Its `username`, when given.
    pub username: Option<String>,
    /// Its `allowed_mentions`.
    pub allowed_mentions: Value,
    /// When it was taken.
    pub at: Instant,
}

/// What the stand-in counted.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Counts {
    /// Every request.
    pub requests: usize,
    /// 429s (any scope).
    pub rate_limited: usize,
    /// 429s for the hidden channel limit.
    pub shared_scope: usize,
    /// 400s (payload refused).
    pub bad_requests: usize,
}

#[derive(Default)]
struct Limits {
    bucket: VecDeque<Instant>,
    channel: VecDeque<Instant>,
    global: VecDeque<Instant>,
    counts: Counts,
    posted: Vec<Posted>,
}

/// The stand-in; one webhook in one channel.
#[derive(Clone)]
pub struct DiscordStandIn {
    addr: SocketAddr,
    state: Arc<Mutex<Limits>>,
}

impl std::fmt::Debug for DiscordStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordStandIn")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl DiscordStandIn {
    /// Starts it on a loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Limits::default()));
        let app = Router::new().fallback(execute).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state }
    }

    /// The webhook URL.
    pub fn url(&self) -> String {
        format!("http://{}/api/webhooks/123456/tok-en", self.addr)
    }

    /// The messages it took, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.lock().posted.clone()
    }

    /// What it counted.
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// Waits until the posted messages satisfy `done` (at most `limit`); returns them.
    pub async fn wait_until(
        &self,
        limit: Duration,
        done: impl Fn(&[Posted]) -> bool,
    ) -> Vec<Posted> {
        let deadline = Instant::now() + limit;
        loop {
            let posted = self.posted();
            if done(&posted) || Instant::now() >= deadline {
                return posted;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn trim(window: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while window
        .front()
        .is_some_and(|at| now.duration_since(*at) >= span)
    {
        window.pop_front();
    }
}

/// Discord's 429 body.
fn too_many(retry_after: f64, global: bool) -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": global }),
    )
}

fn error(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn execute(
    State(state): State<Arc<Mutex<Limits>>>,
    RawQuery(query): RawQuery,
    _headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    let mut limits = state.lock().unwrap_or_else(PoisonError::into_inner);
    limits.counts.requests += 1;
    trim(&mut limits.global, now, Duration::from_secs(1));
    trim(&mut limits.bucket, now, BUCKET_WINDOW);
    trim(&mut limits.channel, now, CHANNEL_WINDOW);

    if limits.global.len() >= GLOBAL_LIMIT {
        limits.counts.rate_limited += 1;
        let mut response = too_many(1.0, true);
        response
            .headers_mut()
            .insert("x-ratelimit-global", HeaderValue::from_static("true"));
        return response;
    }
    limits.global.push_back(now);

    let reset_after = |window: &VecDeque<Instant>| {
        window
            .front()
            .map_or(BUCKET_WINDOW, |first| {
                BUCKET_WINDOW.saturating_sub(now.duration_since(*first))
            })
            .as_secs_f64()
    };
    if limits.bucket.len() >= BUCKET_LIMIT {
        limits.counts.rate_limited += 1;
        let after = reset_after(&limits.bucket);
        let mut response = too_many(after, false);
        bucket_headers(response.headers_mut(), 0, after);
        response
            .headers_mut()
            .insert("x-ratelimit-scope", HeaderValue::from_static("user"));
        return response;
    }
    limits.bucket.push_back(now);
    let remaining = BUCKET_LIMIT - limits.bucket.len();
    let after = reset_after(&limits.bucket);

    let message: Option<Value> = serde_json::from_slice(&body).ok();
    let Some(message) = message.filter(Value::is_object) else {
        limits.counts.bad_requests += 1;
        return error(
            StatusCode::BAD_REQUEST,
            &json!({ "message": "The request body contains invalid JSON.", "code": 50109 }),
        );
    };
    if let Some(refusal) = payload_problem(&message) {
        limits.counts.bad_requests += 1;
        let mut response = error(StatusCode::BAD_REQUEST, &refusal);
        bucket_headers(response.headers_mut(), remaining, after);
        return response;
    }

    if limits.channel.len() >= CHANNEL_LIMIT {
        limits.counts.rate_limited += 1;
        limits.counts.shared_scope += 1;
        let first = *limits.channel.front().expect("a full window");
        let retry = CHANNEL_WINDOW
            .saturating_sub(now.duration_since(first))
            .as_secs_f64();
        let mut response = too_many(retry, false);
        bucket_headers(response.headers_mut(), remaining, after);
        response
            .headers_mut()
            .insert("x-ratelimit-scope", HeaderValue::from_static("shared"));
        return response;
    }
    limits.channel.push_back(now);
    let content = message["content"].as_str().unwrap_or_default().to_owned();
    let username = message["username"].as_str().map(str::to_owned);
    limits.posted.push(Posted {
        content: content.clone(),
        username: username.clone(),
        allowed_mentions: message["allowed_mentions"].clone(),
        at: now,
    });
    let id = limits.posted.len();
    drop(limits);
    let waited = query.is_some_and(|q| q.split('&').any(|p| p == "wait=true"));
    let mut response = if waited {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            json!({ "id": id.to_string(), "type": 0, "content": content, "channel_id": "42",
                    "author": { "username": username, "bot": true }, "webhook_id": "123456" })
            .to_string(),
        )
            .into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    bucket_headers(response.headers_mut(), remaining, after);
    response
}

/// Discord's refusal of a message it cannot post, if any.
fn payload_problem(message: &Value) -> Option<Value> {
    let content = message["content"].as_str().unwrap_or_default();
    let embeds = message["embeds"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if content.chars().count() > 2000 {
        return Some(json!({ "code": 50035, "message": "Invalid Form Body",
            "errors": { "content": { "_errors": [{ "code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length." }] } } }));
    }
    if embeds.len() > 10 {
        return Some(json!({ "code": 50035, "message": "Invalid Form Body",
            "errors": { "embeds": { "_errors": [{ "code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 10 or fewer in length." }] } } }));
    }
    let embed_chars: usize = embeds.iter().map(|e| e.to_string().chars().count()).sum();
    if embed_chars > 6000 {
        return Some(json!({ "code": 50035, "message": "Invalid Form Body",
            "errors": { "embeds": { "_errors": [{ "code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000" }] } } }));
    }
    if content.trim().is_empty() && embeds.is_empty() {
        return Some(json!({ "code": 50006, "message": "Cannot send an empty message" }));
    }
    None
}

fn bucket_headers(headers: &mut HeaderMap, remaining: usize, reset_after: f64) {
    for (name, value) in [
        ("x-ratelimit-limit", BUCKET_LIMIT.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset-after", format!("{reset_after:.3}")),
        ("x-ratelimit-bucket", "stand-in-webhook-bucket".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}
