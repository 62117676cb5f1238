//! The admin listener: health, readiness, metrics, the admin page and its JSON API. Never
//! mounted on the public listener.

mod actions;
mod auth;
mod guard;
mod page;
mod view;

use std::sync::{Arc, atomic::Ordering};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use self::{auth::Access, page::Viewer};
use crate::{relay::Relay, store::Status};

/// What every admin handler gets.
#[derive(Clone, Debug)]
pub(crate) struct Admin {
    relay: Arc<Relay>,
    access: Arc<Access>,
    throttle: Arc<guard::Throttle>,
    /// When `/readyz` last found the database writable, and what it said: reused for
    /// [`READY_CACHE`], so that unauthenticated probes cannot make a healthy relay write to its
    /// database at any rate. A failure is never reused: the next probe looks again.
    ready: Arc<std::sync::Mutex<Option<(std::time::Instant, String)>>>,
}

/// How long `/readyz` reuses a look that found the database writable.
const READY_CACHE: std::time::Duration = std::time::Duration::from_secs(1);

/// `/healthz`, `/readyz`, `/metrics`, the admin page (`/`, `/deliveries`, `/deliveries/{id}`,
/// `/login`, `/logout`) and its JSON API (`/api/…`; see the relay-bin README).
pub fn router(relay: Arc<Relay>) -> Router {
    let config = &relay.config.admin;
    let access = Arc::new(Access::new(
        config.token.clone(),
        config.listen.ip().is_loopback(),
    ));
    let admin = Admin {
        relay,
        access,
        throttle: Arc::default(),
        ready: Arc::default(),
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/", get(overview_page))
        .route("/deliveries", get(deliveries_page))
        .route("/deliveries/{id}", get(detail_page))
        .route("/login", get(login_page).post(actions::login))
        .route("/logout", post(actions::logout))
        .route("/api/status", get(status_json))
        .route("/api/deliveries", get(deliveries_json))
        .route("/api/deliveries/{id}", get(detail_json))
        .route("/api/deliveries/{id}/replay", post(actions::replay_one))
        .route("/api/outputs/{name}/replay", post(actions::replay_range))
        .route(
            "/api/outputs/{name}/{change}",
            post(actions::enable_or_disable),
        )
        .layer(axum::middleware::from_fn_with_state(
            admin.clone(),
            guard::guard,
        ))
        .with_state(admin)
}

/// `/readyz`: a real write through the store (while it succeeds, at most one a second; a
/// failure, a failed accept since, and a database found lost are looked at at once).
async fn ready(State(admin): State<Admin>) -> impl IntoResponse {
    let relay = &admin.relay;
    if let Some(why) = relay.store.lost() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: database not writable: {why}"),
        );
    }
    if let Some(why) = relay.store.failing() {
        if let Ok(mut last) = admin.ready.lock() {
            *last = None;
        }
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: database not writable: the last webhook's commit failed: {why}"),
        );
    }
    let cached = admin
        .ready
        .lock()
        .ok()
        .and_then(|last| last.clone())
        .filter(|(at, _)| at.elapsed() < READY_CACHE);
    if let Some((_, text)) = cached {
        return (StatusCode::OK, text);
    }
    match relay.store.check_writable(relay.clock.now_ms()).await {
        Ok(()) => {
            let text = format!(
                "ready: database ({}) writable, key {}",
                relay.store.kind(),
                relay.keys.current().fingerprint_hex()
            );
            if let Ok(mut last) = admin.ready.lock() {
                *last = Some((std::time::Instant::now(), text.clone()));
            }
            (StatusCode::OK, text)
        }
        Err(err) => {
            if let Ok(mut last) = admin.ready.lock() {
                *last = None;
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: database not writable: {err:#}"),
            )
        }
    }
}

async fn metrics(State(admin): State<Admin>) -> Response {
    let relay = &admin.relay;
    let stats = match relay.store.stats(relay.clock.now_ms()).await {
        Ok(stats) => stats,
        // Zeros would look like an empty outbox; say that the store could not be read.
        Err(err) => return unavailable(&err),
    };
    let disabled: Vec<String> = relay
        .outputs
        .iter()
        .filter(|o| o.disabled.load(Ordering::Acquire))
        .map(|o| o.sink.name().to_owned())
        .collect();
    let leases: Vec<(String, bool)> = relay
        .leases()
        .map(|l| (l.name.clone(), l.is_held()))
        .collect();
    (
        [("content-type", "text/plain; version=0.0.4")],
        relay.metrics.render(&stats, &disabled, &leases),
    )
        .into_response()
}

fn unavailable(err: &anyhow::Error) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("cannot read the store: {err:#}"),
    )
        .into_response()
}

/// 401 for a reader who needs the token (off loopback).
fn unauthorized_page() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Html("<!doctype html><p>This admin listener is not on loopback: <a href=\"/login\">log in</a> with admin.token, or send Authorization: Bearer.</p>"),
    )
        .into_response()
}

fn unauthorized_json() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({ "error": "send Authorization: Bearer <admin.token>" })),
    )
        .into_response()
}

impl Admin {
    fn viewer(&self, headers: &HeaderMap) -> Viewer {
        Viewer {
            csrf: self.access.session(headers).map(|s| s.csrf),
            actions_configured: self.access.has_token(),
        }
    }

    /// Why `output` (a filter's) names no configured output, if it does not.
    fn unknown_output(&self, output: Option<&str>) -> Option<String> {
        let output = output?;
        let names = self.output_names();
        (!names.iter().any(|n| n == output)).then(|| {
            format!(
                "no output named {output:?}; the configured outputs are: {}",
                if names.is_empty() {
                    "(none)".to_owned()
                } else {
                    names.join(", ")
                }
            )
        })
    }

    fn output_names(&self) -> Vec<String> {
        self.relay
            .outputs
            .iter()
            .map(|o| o.sink.name().to_owned())
            .collect()
    }
}

async fn overview_page(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if !admin.access.can_read(&headers) {
        return unauthorized_page();
    }
    match view::status(&admin.relay).await {
        Ok(status) => Html(page::overview(&status, &admin.viewer(&headers))).into_response(),
        Err(err) => unavailable(&err),
    }
}

/// `?output=…&status=…&limit=…` (empty values mean "all").
#[derive(Debug, Deserialize)]
struct Filter {
    output: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

impl Filter {
    fn output(&self) -> Option<&str> {
        self.output.as_deref().filter(|o| !o.is_empty())
    }

    /// At most how many rows (default 100); outside 1 to 1000 is refused, not bent.
    fn limit(&self) -> Result<i64, String> {
        match self.limit {
            None => Ok(100),
            Some(limit) if (1..=1000).contains(&limit) => Ok(limit),
            Some(limit) => Err(format!("limit={limit} is outside 1 to 1000")),
        }
    }

    fn status(&self) -> Result<Option<Status>, String> {
        self.status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Status>().map_err(|err| err.to_string()))
            .transpose()
    }
}

async fn deliveries_page(
    State(admin): State<Admin>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    if !admin.access.can_read(&headers) {
        return unauthorized_page();
    }
    let (status, limit) = match filter.status().and_then(|s| Ok((s, filter.limit()?))) {
        Ok(checked) => checked,
        Err(why) => return (StatusCode::BAD_REQUEST, Html(page::problem(&why))).into_response(),
    };
    if let Some(why) = admin.unknown_output(filter.output()) {
        return (StatusCode::NOT_FOUND, Html(page::problem(&why))).into_response();
    }
    match admin.relay.store.list(filter.output(), status, limit).await {
        Ok(rows) => Html(page::deliveries(
            &rows,
            &admin.output_names(),
            filter.output(),
            status.map(Status::as_str),
            &admin.viewer(&headers),
        ))
        .into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn detail_page(
    State(admin): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !admin.access.can_read(&headers) {
        return unauthorized_page();
    }
    let Ok(id) = id.parse::<i64>() else {
        return (
            StatusCode::NOT_FOUND,
            Html(page::problem(&format!(
                "no delivery {id:?}: a delivery's number is a whole number, as in /deliveries/12"
            ))),
        )
            .into_response();
    };
    match admin.relay.store.detail(id).await {
        Ok(Some(detail)) => Html(page::detail(&detail, &admin.viewer(&headers))).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Html(page::problem(&format!("no delivery {id}"))),
        )
            .into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn login_page(State(admin): State<Admin>) -> Html<String> {
    Html(page::login(if admin.relay.config.admin.token.is_some() {
        page::LoginNote::None
    } else {
        page::LoginNote::NoToken
    }))
}

async fn status_json(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if !admin.access.can_read(&headers) {
        return unauthorized_json();
    }
    match view::status(&admin.relay).await {
        Ok(status) => Json(status).into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn deliveries_json(
    State(admin): State<Admin>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    if !admin.access.can_read(&headers) {
        return unauthorized_json();
    }
    let (status, limit) = match filter.status().and_then(|s| Ok((s, filter.limit()?))) {
        Ok(checked) => checked,
        Err(why) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": why })),
            )
                .into_response();
        }
    };
    if let Some(why) = admin.unknown_output(filter.output()) {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": why })),
        )
            .into_response();
    }
    match admin.relay.store.list(filter.output(), status, limit).await {
        Ok(rows) => Json(rows).into_response(),
        Err(err) => unavailable(&err),
    }
}

async fn detail_json(
    State(admin): State<Admin>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if !admin.access.can_read(&headers) {
        return unauthorized_json();
    }
    match admin.relay.store.detail(id).await {
        Ok(Some(detail)) => Json(detail).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": format!("no delivery {id}") })),
        )
            .into_response(),
        Err(err) => unavailable(&err),
    }
}
