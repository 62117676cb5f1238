//! A scriptable HTTP server on 127.0.0.1 standing in for Discord or a user's webhook.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// One request the stand-in received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Path and query.
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: String,
    /// Delay before answering.
    pub delay: Duration,
    /// When set, the answer waits (before its delay) until the test adds a permit here.
    pub gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl Reply {
    /// A reply with `status` and nothing else.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
            gate: None,
        }
    }

    /// With a header.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// With a body.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// Answered only after `delay` (a slow receiver).
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = dyn Fn(usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct Shared {
    script: Arc<Script>,
    received: Arc<Mutex<Vec<Received>>>,
    load: Arc<InFlight>,
}

/// Requests being answered now, and the most at once so far.
#[derive(Debug, Default)]
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

async fn handle(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = {
        let mut all = shared
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.push(Received {
            uri,
            headers,
            body,
            at: Instant::now(),
        });
        all.len()
    };
    let reply = (shared.script)(n);
    let now = shared.load.now.fetch_add(1, Ordering::SeqCst) + 1;
    shared.load.peak.fetch_max(now, Ordering::SeqCst);
    if let Some(gate) = &reply.gate
        && let Ok(permit) = gate.acquire().await
    {
        permit.forget();
    }
    tokio::time::sleep(reply.delay).await;
    shared.load.now.fetch_sub(1, Ordering::SeqCst);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body).into_response();
    for (name, value) in reply.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The stand-in. Each request is answered with `script(n)` where `n` counts requests from 1.
#[derive(Debug)]
pub struct StandIn {
    /// Its address.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    load: Arc<InFlight>,
}

impl StandIn {
    /// Starts a stand-in answering every request with `reply`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn always(reply: Reply) -> Self {
        Self::scripted(move |_| reply.clone()).await
    }

    /// Starts a stand-in answering request `n` with `script(n)`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn scripted(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::scripted_on(SocketAddr::from(([127, 0, 0, 1], 0)), script).await
    }

    /// Starts a stand-in on `addr` (an output that was down comes up where it was).
    ///
    /// # Panics
    /// When `addr` cannot be bound.
    pub async fn scripted_on(
        addr: SocketAddr,
        script: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let load = Arc::new(InFlight::default());
        let app = Router::new().fallback(handle).with_state(Shared {
            script: Arc::new(script),
            received: received.clone(),
            load: load.clone(),
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            received,
            load,
        }
    }

    /// The most requests it was answering at once (each counts until its reply's delay ends).
    pub fn peak_in_flight(&self) -> usize {
        self.load.peak.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until at least `n` requests arrived (polling, at most `limit`); returns them.
    ///
    /// # Panics
    /// When fewer than `n` arrived in time (with what did arrive).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {n} requests arrived within {limit:?}: {:?}",
                received.len(),
                received
                    .iter()
                    .map(|r| r.uri.to_string())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
