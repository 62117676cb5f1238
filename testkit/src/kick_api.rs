//! A stand-in for Kick's OAuth server and its event subscriptions API, with the behaviour the
//! reconciler meets: client credentials checked, tokens that expire, 401 without a valid
//! Bearer token, duplicates accepted (as Kick does), the per-event subscription limit (400
//! `event subscription limit reached`), and Kick's envelopes. Subscriptions live in memory; a
//! test may drop some (as Kick does after a day of failed deliveries) or add copies.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

/// One subscription the stand-in holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Its id.
    pub id: String,
    /// The channel.
    pub broadcaster: u64,
    /// The event name.
    pub event: String,
    /// The event version.
    pub version: u64,
}

#[derive(Debug, Default)]
struct World {
    subscriptions: Vec<Subscription>,
    tokens: Vec<String>,
    next: u64,
    /// Calls to the subscriptions API by method.
    calls: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    world: Arc<Mutex<World>>,
    client_id: String,
    client_secret: String,
    limit_per_event: usize,
}

/// The running stand-in.
#[derive(Debug)]
pub struct FakeKickApi {
    /// Its address (both the API and the OAuth base URL).
    pub addr: SocketAddr,
    world: Arc<Mutex<World>>,
}

impl FakeKickApi {
    /// Starts it for an app with `client_id` and `client_secret`, allowing `limit_per_event`
    /// subscriptions per event type.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(client_id: &str, client_secret: &str, limit_per_event: usize) -> Self {
        let world = Arc::new(Mutex::new(World::default()));
        let shared = Shared {
            world: world.clone(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            limit_per_event,
        };
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route(
                "/public/v1/events/subscriptions",
                get(list).post(create).delete(delete),
            )
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, world }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The subscriptions held now.
    ///
    pub fn subscriptions(&self) -> Vec<Subscription> {
        lock(&self.world).subscriptions.clone()
    }

    /// Adds a subscription (a duplicate, or one the operator made by hand).
    ///
    pub fn add(&self, broadcaster: u64, event: &str) -> String {
        let mut world = lock(&self.world);
        world.next += 1;
        let id = format!("01SUB{:021}", world.next);
        world.subscriptions.push(Subscription {
            id: id.clone(),
            broadcaster,
            event: event.into(),
            version: 1,
        });
        id
    }

    /// Drops every subscription of `broadcaster` (as Kick does after a day of failures).
    ///
    pub fn drop_channel(&self, broadcaster: u64) {
        lock(&self.world)
            .subscriptions
            .retain(|s| s.broadcaster != broadcaster);
    }

    /// Calls to the subscriptions API, by method (`GET`, `POST`, `DELETE`), in order.
    ///
    pub fn calls(&self) -> Vec<String> {
        lock(&self.world).calls.clone()
    }
}

/// The state (a handler that panicked leaves it as it was).
fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(PoisonError::into_inner)
}

fn envelope(status: StatusCode, data: Value, message: &str) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("data".into(), data);
    body.insert("message".into(), Value::from(message));
    (status, Json(Value::Object(body))).into_response()
}

async fn token(State(shared): State<Shared>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    if field("grant_type") != "client_credentials"
        || field("client_id") != shared.client_id
        || field("client_secret") != shared.client_secret
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let mut world = lock(&shared.world);
    world.next += 1;
    let token = format!("app-token-{}", world.next);
    world.tokens.push(token.clone());
    Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 }))
        .into_response()
}

/// Whether the request carries a token this stand-in issued; records the call.
fn authorised(shared: &Shared, headers: &HeaderMap, method: &str) -> bool {
    let mut world = lock(&shared.world);
    world.calls.push(method.into());
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer.is_some_and(|t| world.tokens.iter().any(|known| known == t))
}

fn unauthorised() -> Response {
    envelope(StatusCode::UNAUTHORIZED, json!({}), "Unauthorized")
}

async fn list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !authorised(&shared, &headers, "GET") {
        return unauthorised();
    }
    let filter: Option<u64> = query
        .iter()
        .find(|(k, _)| k == "broadcaster_user_id")
        .and_then(|(_, v)| v.parse().ok());
    let world = lock(&shared.world);
    let data: Vec<Value> = world
        .subscriptions
        .iter()
        .filter(|s| filter.is_none_or(|b| s.broadcaster == b))
        .map(|s| {
            json!({ "id": s.id, "app_id": "01APPSTANDIN", "broadcaster_user_id": s.broadcaster,
                    "event": s.event, "version": s.version, "method": "webhook",
                    // Ids grow with creation: equal times sort the oldest first by id.
                    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" })
        })
        .collect();
    envelope(StatusCode::OK, Value::Array(data), "OK")
}

async fn create(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    if !authorised(&shared, &headers, "POST") {
        return unauthorised();
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return envelope(StatusCode::BAD_REQUEST, json!({}), "Invalid request");
    };
    let (Some(broadcaster), Some(events)) = (
        request["broadcaster_user_id"].as_u64(),
        request["events"].as_array(),
    ) else {
        // An app token must name the channel.
        return envelope(StatusCode::BAD_REQUEST, json!({}), "Invalid request");
    };
    if request["method"] != "webhook" {
        return envelope(StatusCode::BAD_REQUEST, json!({}), "Invalid request");
    }
    let mut world = lock(&shared.world);
    for event in events {
        let name = event["name"].as_str().unwrap_or_default();
        let count = world
            .subscriptions
            .iter()
            .filter(|s| s.event == name)
            .count();
        if count >= shared.limit_per_event {
            return envelope(
                StatusCode::BAD_REQUEST,
                json!("event subscription limit reached"),
                "Bad request",
            );
        }
    }
    let mut results = Vec::new();
    for event in events {
        world.next += 1;
        let id = format!("01SUB{:021}", world.next);
        let name = event["name"].as_str().unwrap_or_default().to_owned();
        let version = event["version"].as_u64().unwrap_or(1);
        world.subscriptions.push(Subscription {
            id: id.clone(),
            broadcaster,
            event: name.clone(),
            version,
        });
        results
            .push(json!({ "name": name, "version": version, "subscription_id": id, "error": "" }));
    }
    envelope(StatusCode::OK, Value::Array(results), "OK")
}

async fn delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !authorised(&shared, &headers, "DELETE") {
        return unauthorised();
    }
    let ids: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.as_str())
        .collect();
    if ids.is_empty() {
        return envelope(StatusCode::BAD_REQUEST, json!({}), "Invalid request");
    }
    lock(&shared.world)
        .subscriptions
        .retain(|s| !ids.contains(&s.id.as_str()));
    StatusCode::NO_CONTENT.into_response()
}
