//! The receiver: one request in, a verified delivery out to a [`Dispatcher`].

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use kick_dispatch::Dispatcher;
use kick_models::{Delivery, drops};
use kick_verify::{PublicKey, Window};

use crate::{
    KeyStore, Rejection,
    recent::{RecentIds, Seen},
    verify::{authenticate, read_body},
};

/// How old `Kick-Event-Message-Timestamp` may be unless [`Receiver::timestamp_window`] says.
///
/// Kick has delivered minutes to hours late, and retries a failing URL for up to a day. This
/// receiver remembers message ids in memory only (the last [`DEFAULT_RECENT_IDS`]; an id older
/// than one it had to forget is refused, see [`Receiver::recent_ids`]), and nothing across a
/// restart: an hour keeps the late deliveries of a short outage while bounding what a restart
/// could let through twice. A durable record of every id is what `kick-relay` adds.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_hours(1);
/// How far in the future `Kick-Event-Message-Timestamp` may lie unless
/// [`Receiver::timestamp_window`] says (a clock that is off).
pub const DEFAULT_MAX_AHEAD: Duration = Duration::from_mins(5);
/// Largest body taken unless [`Receiver::max_body_bytes`] says (Kick's deliveries are a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Message ids remembered for dropping repeats unless [`Receiver::recent_ids`] says.
pub const DEFAULT_RECENT_IDS: usize = 10_000;

/// What became of a request that was signed right.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Received {
    /// New: handed to the dispatcher.
    Accepted(Arc<Delivery>),
    /// A message id seen lately (Kick redelivered it): not dispatched again.
    Duplicate,
}

/// Receives Kick's webhooks: reads the `Kick-Event-*` headers, checks the timestamp window,
/// verifies the signature (Kick's built-in key, fetched again from Kick's API at most once a
/// minute when a signature fails, so a key rotation heals itself; or a key you give), drops
/// repeats of a message id, and hands each new delivery to a [`Dispatcher`]. Answers like the
/// `kick-relay` binary: `200 accepted` / `200 duplicate`, `400` naming what was wrong, `413`.
///
/// ```no_run
/// use kick_dispatch::{Dispatcher, events};
/// use kick_webhook::Receiver;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let bus = Dispatcher::new();
/// bus.listen(events::ChatMessageSent, |chat| println!("{}: {}", chat.sender.username, chat.content));
/// let app = Receiver::new(bus)?.router("/webhooks/kick");
/// axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await?, app).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Receiver {
    dispatcher: Dispatcher,
    keys: KeyStore,
    window: Option<Window>,
    max_body_bytes: usize,
    recent: Mutex<RecentIds>,
    clock: fn() -> SystemTime,
}

/// The wall clock, unless [`Receiver::clock`] replaces it.
#[allow(clippy::disallowed_methods)]
fn system_now() -> SystemTime {
    SystemTime::now()
}

impl Receiver {
    /// A receiver for Kick's built-in published key, refetched from `api.kick.com` when a
    /// signature fails (at most once a minute), handing deliveries to `dispatcher`.
    ///
    /// # Errors
    /// Only if the built-in key or the HTTP client cannot be set up (never in practice).
    pub fn new(dispatcher: Dispatcher) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let client = kick_api::KickClient::builder()
            .retry(kick_api::RetryPolicy::none())
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self::with_keys(
            dispatcher,
            KeyStore::new(PublicKey::kick()?, Some(client)),
        ))
    }

    /// A receiver verifying with `keys` (e.g. `KeyStore::new(PublicKey::from_pem(..)?, None)`
    /// for a local test key, or with a client pointed elsewhere).
    pub fn with_keys(dispatcher: Dispatcher, keys: KeyStore) -> Self {
        Self {
            dispatcher,
            keys,
            window: Some(Window::new(DEFAULT_MAX_AGE, DEFAULT_MAX_AHEAD)),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            recent: Mutex::new(RecentIds::new(DEFAULT_RECENT_IDS)),
            clock: system_now,
        }
    }

    /// How far the timestamp may be from now, the same both ways; `None` turns the check off.
    #[must_use]
    pub fn timestamp_tolerance(self, tolerance: Option<Duration>) -> Self {
        self.timestamp_window(tolerance.map(Window::symmetric))
    }

    /// How old and how far ahead the timestamp may be (default: [`DEFAULT_MAX_AGE`] old,
    /// [`DEFAULT_MAX_AHEAD`] ahead); `None` turns the check off. A longer `max_age` only helps
    /// as far as the memory of message ids reaches (see [`Receiver::recent_ids`]).
    #[must_use]
    pub fn timestamp_window(mut self, window: Option<Window>) -> Self {
        self.window = window;
        self
    }

    /// Largest body taken; larger ones get 413.
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How many message ids are remembered to drop repeats (0: none). Once the memory is full
    /// the oldest id is forgotten, and a delivery timestamped no later than a forgotten id is
    /// refused (400, saying so) rather than risk dispatching a repeat: size it for the events
    /// your channels send within the window.
    #[must_use]
    pub fn recent_ids(mut self, capacity: usize) -> Self {
        self.recent = Mutex::new(RecentIds::new(capacity));
        self
    }

    /// The clock for the timestamp window (tests).
    #[must_use]
    pub fn clock(mut self, clock: fn() -> SystemTime) -> Self {
        self.clock = clock;
        self
    }

    /// The keys it verifies with.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// An axum router taking `POST path` (other methods: 405, other paths: 404).
    pub fn router(self, path: &str) -> Router {
        Router::new()
            .route(path, post(handle))
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::new(self))
    }

    /// Checks one request and dispatches it when it is new; for use outside axum's router.
    ///
    /// # Errors
    /// The [`Rejection`] to answer.
    pub async fn receive(&self, headers: &HeaderMap, body: Bytes) -> Result<Received, Rejection> {
        if body.len() > self.max_body_bytes {
            return Err(Rejection::TooLarge {
                limit: self.max_body_bytes,
            });
        }
        let now = (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let parsed = authenticate(&self.keys, self.window, headers, &body, now).await?;
        let at = parsed.meta.timestamp.unix_seconds();
        let seen = {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            match recent.insert(&parsed.meta.message_id, at) {
                // Kick sends a Drops claim again under a new message id: its claim id says so.
                Seen::New if drops::is_drop_claim(&parsed) => {
                    match serde_json::from_slice::<drops::DropClaimed>(&body) {
                        Ok(claim) => recent.insert(&format!("claim:{}", claim.claim_id), at),
                        Err(_) => Seen::New,
                    }
                }
                seen => seen,
            }
        };
        match seen {
            Seen::New => {}
            Seen::Repeat => return Ok(Received::Duplicate),
            Seen::BeyondMemory { forgotten_up_to } => {
                return Err(Rejection::BeyondMemory {
                    secs: forgotten_up_to.saturating_sub(at).saturating_add(1),
                });
            }
        }
        let delivery = Arc::new(Delivery::parse(parsed, body));
        if let Err(err) = &delivery.event {
            tracing::warn!(message_id = %delivery.headers.meta.message_id, error = %err, "signed delivery does not fit its schema; dispatched to catch-all listeners");
        }
        if let Err(err) = self.dispatcher.publish(Arc::clone(&delivery)) {
            tracing::warn!(error = %err, "the dispatcher is shut down; delivery not dispatched");
        }
        Ok(Received::Accepted(delivery))
    }
}

async fn handle(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body, receiver.max_body_bytes).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    match receiver.receive(&headers, body).await {
        Ok(Received::Accepted(_)) => (StatusCode::OK, "accepted").into_response(),
        Ok(Received::Duplicate) => (StatusCode::OK, "duplicate").into_response(),
        Err(rejection) => rejection.into_response(),
    }
}
