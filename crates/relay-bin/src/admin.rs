//! The admin listener: health, readiness, metrics. Never mounted on the public listener.

use std::{sync::Arc, sync::atomic::Ordering};

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};

use crate::{clock, relay::Relay};

/// `/healthz`, `/readyz`, `/metrics`.
pub fn router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(relay)
}

async fn ready(State(relay): State<Arc<Relay>>) -> impl IntoResponse {
    match relay.store.check_writable(clock::now_ms()).await {
        Ok(()) => (
            StatusCode::OK,
            format!(
                "ready: database writable, key {}",
                relay.keys.current().fingerprint_hex()
            ),
        ),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: database not writable: {err:#}"),
        ),
    }
}

async fn metrics(State(relay): State<Arc<Relay>>) -> axum::response::Response {
    let stats = match relay.store.stats(clock::now_ms()).await {
        Ok(stats) => stats,
        // Zeros would look like an empty outbox; say that the store could not be read.
        Err(err) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot read the store: {err:#}"),
            )
                .into_response();
        }
    };
    let disabled: Vec<String> = relay
        .outputs
        .iter()
        .filter(|o| o.disabled.load(Ordering::Acquire))
        .map(|o| o.sink.name().to_owned())
        .collect();
    (
        [("content-type", "text/plain; version=0.0.4")],
        relay.metrics.render(&stats, &disabled),
    )
        .into_response()
}
