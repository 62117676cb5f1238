//! A 200-answering receiver for the relay's outputs that records when each event arrived.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{Router, extract::State, http::HeaderMap};

/// Arrivals by `webhook-id` (raw output) and a count of Discord posts.
#[derive(Debug, Default)]
pub(crate) struct Arrivals {
    pub(crate) raw: HashMap<String, Instant>,
    /// Every raw request, repeats included.
    pub(crate) raw_total: u64,
    pub(crate) discord: u64,
    /// `Kick-Event-Message-Id` of every request to `/ordered` (a forward output), in arrival
    /// order, repeats included.
    pub(crate) ordered: Vec<String>,
}

type Shared = Arc<Mutex<Arrivals>>;

async fn raw(State(arrivals): State<Shared>, headers: HeaderMap) -> &'static str {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Ok(mut a) = arrivals.lock() {
        a.raw_total += 1;
        a.raw.entry(id).or_insert_with(Instant::now);
    }
    ""
}

async fn ordered(State(arrivals): State<Shared>, headers: HeaderMap) -> &'static str {
    let id = headers
        .get("kick-event-message-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Ok(mut a) = arrivals.lock() {
        a.ordered.push(id);
    }
    ""
}

async fn discord(State(arrivals): State<Shared>) -> &'static str {
    if let Ok(mut a) = arrivals.lock() {
        a.discord += 1;
    }
    "{}"
}

/// Starts the stand-in on `listen` (port 0: any free port); returns its address and the
/// shared record.
pub(crate) async fn start(listen: SocketAddr) -> anyhow::Result<(SocketAddr, Shared)> {
    let arrivals: Shared = Arc::default();
    let app = Router::new()
        .route("/raw", axum::routing::post(raw))
        .route("/discord", axum::routing::post(discord))
        .route("/ordered", axum::routing::post(ordered))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, arrivals))
}
