//! A scriptable stand-in for api.kick.com and id.kick.com on one loopback port.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use kick_api::{KickClient, RetryPolicy};

/// One request Kick received.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) auth: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

impl Seen {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub(crate) fn form(&self) -> Vec<(String, String)> {
        url_pairs(&self.body)
    }
}

fn url_pairs(text: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{text}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// An answer.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) delay: Duration,
}

pub(crate) fn ok(data: serde_json::Value) -> Answer {
    let mut body = serde_json::Map::new();
    body.insert("data".into(), data);
    body.insert("message".into(), "OK".into());
    answer(200, serde_json::Value::Object(body).to_string())
}

pub(crate) fn answer(status: u16, body: impl Into<String>) -> Answer {
    Answer {
        status,
        body: body.into(),
        headers: Vec::new(),
        delay: Duration::ZERO,
    }
}

/// Answers the token endpoint with `token-<n>` (n counts fetches) valid for `expires_in`.
pub(crate) fn token(n: usize, expires_in: u64) -> Answer {
    answer(200, serde_json::json!({ "access_token": format!("token-{n}"), "token_type": "Bearer", "expires_in": expires_in }).to_string())
}

type Script = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

#[derive(Clone)]
struct Shared {
    script: Arc<Script>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(url_pairs).unwrap_or_default(),
        auth: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned()),
        content_type: headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let count = {
        let mut all = shared.seen.lock().unwrap();
        all.push(seen.clone());
        all.iter().filter(|s| s.path == seen.path).count()
    };
    let reply = (shared.script)(&seen, count);
    tokio::time::sleep(reply.delay).await;
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// The fake Kick.
pub(crate) struct FakeKick {
    pub(crate) addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A fixed wall clock: 2023-11-14T22:13:20Z.
pub(crate) fn fixed_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

impl FakeKick {
    /// Starts a fake answering each request with `script(request, nth request to that path)`.
    pub(crate) async fn start(
        script: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().fallback(handle).with_state(Shared {
            script: Arc::new(script),
            seen: seen.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, seen }
    }

    /// A client for this fake with test credentials and fast retries.
    pub(crate) fn client(&self) -> KickClient {
        self.builder().build().unwrap()
    }

    pub(crate) fn builder(&self) -> kick_api::KickClientBuilder {
        let base = format!("http://{}", self.addr);
        KickClient::builder()
            .api_base_url(&base)
            .oauth_base_url(&base)
            .credentials("client-id", "client-secret")
            .timeout(Duration::from_secs(2))
            .retry(RetryPolicy::new(
                2,
                Duration::from_millis(5),
                Duration::from_secs(2),
            ))
            .clock(fixed_now)
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

/// A script that hands out app tokens and answers `data` elsewhere.
pub(crate) fn tokens_and(
    data: serde_json::Value,
) -> impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static {
    move |seen, n| {
        if seen.path == "/oauth/token" {
            token(n, 3600)
        } else {
            ok(data.clone())
        }
    }
}
