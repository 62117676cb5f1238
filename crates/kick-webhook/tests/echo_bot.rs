//! `examples/echo_bot.rs` end to end, against local stand-ins for Kick's webhook sender (deliveries
//! signed with the test key) and Kick's API (OAuth with PKCE, token refresh, chat send).

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub, dead_code)]

#[path = "../examples/echo_bot.rs"]
mod echo_bot;

mod common;

use common::{serve, signed_chat};

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Form, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::post,
};
use base64::{Engine as _, engine::general_purpose};
use common::PUBLIC_PEM;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What the fake Kick API saw.
#[derive(Default)]
struct Seen {
    /// The PKCE challenge from the authorize URL the bot sent the browser to.
    challenge: String,
    /// `grant_type` of every token request.
    grants: Vec<String>,
    /// (Authorization header, body) of every chat send.
    chats: Vec<(String, Value)>,
}

type Fake = Arc<Mutex<Seen>>;

async fn token(
    State(fake): State<Fake>,
    Form(form): Form<Vec<(String, String)>>,
) -> impl IntoResponse {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut seen = fake.lock().unwrap();
    seen.grants.push(get("grant_type"));
    match get("grant_type").as_str() {
        "authorization_code" => {
            let verifier = get("code_verifier");
            let challenge =
                general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if get("code") != "the-code"
                || challenge != seen.challenge
                || get("client_secret") != "secret"
            {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({ "error": "invalid_grant" })),
                );
            }
            // Nearly expired: the first use must refresh it.
            (
                StatusCode::OK,
                Json(
                    json!({ "access_token": "user-token-1", "refresh_token": "refresh-1",
                "expires_in": 30, "token_type": "Bearer", "scope": "chat:write user:read events:subscribe" }),
                ),
            )
        }
        "refresh_token" if get("refresh_token") == "refresh-1" => (
            StatusCode::OK,
            Json(
                json!({ "access_token": "user-token-2", "refresh_token": "refresh-2",
                "expires_in": 3600, "token_type": "Bearer", "scope": "chat:write" }),
            ),
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        ),
    }
}

async fn chat(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut seen = fake.lock().unwrap();
    if auth != "Bearer user-token-2" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "data": {}, "message": "Unauthorized" })),
        );
    }
    seen.chats.push((auth, body));
    let id = format!("sent-{}", seen.chats.len());
    (
        StatusCode::OK,
        Json(json!({ "data": { "is_sent": true, "message_id": id }, "message": "OK" })),
    )
}

async fn post_chat(bot: &str, n: u32, text: &str) -> (u16, String) {
    let (headers, body) = signed_chat(n, text);
    let mut request = reqwest::Client::new()
        .post(format!("{bot}/webhooks/kick"))
        .body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn wait_for_chats(fake: &Fake, n: usize) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let chats = fake.lock().unwrap().chats.clone();
        if chats.len() >= n {
            return chats;
        }
        assert!(
            Instant::now() < deadline,
            "{} chat sends, expected {n}",
            chats.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `GET /login`: a redirect to Kick's consent page; its query parameters by name.
async fn start_login(browser: &reqwest::Client, bot: &str) -> impl Fn(&str) -> String {
    let login = browser.get(format!("{bot}/login")).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let location = reqwest::Url::parse(login.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/oauth/authorize");
    move |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_bot_logs_in_with_pkce_answers_ping_and_refreshes_its_token() {
    let fake: Fake = Arc::default();
    let kick = serve(
        Router::new()
            .route("/oauth/token", post(token))
            .route("/public/v1/chat", post(chat))
            .with_state(Arc::clone(&fake)),
    )
    .await;
    let key_dir = std::env::temp_dir().join(format!("kick-relay-echo-bot-{}", std::process::id()));
    std::fs::create_dir_all(&key_dir).unwrap();
    let key_file = key_dir.join("public.pem");
    std::fs::write(&key_file, PUBLIC_PEM).unwrap();
    // The bot's own address is only known once bound; its redirect URL is not called here.
    let app = echo_bot::app(echo_bot::Settings {
        client_id: "client".into(),
        client_secret: "secret".into(),
        public_url: "http://127.0.0.1:1".into(),
        api_base: Some(kick.clone()),
        oauth_base: Some(kick.clone()),
        public_key_file: Some(key_file.display().to_string()),
    })
    .unwrap();
    let bot = serve(app).await;
    std::fs::remove_dir_all(&key_dir).unwrap();

    // Before anyone logged in, !ping is received but cannot be answered.
    assert_eq!(post_chat(&bot, 0, "!ping").await, (200, "accepted".into()));

    // Log in: /login sends the browser to Kick's consent page with a PKCE challenge.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let param = start_login(&browser, &bot).await;
    assert_eq!(param("code_challenge_method"), "S256");
    assert_eq!(param("redirect_uri"), "http://127.0.0.1:1/oauth/callback");
    fake.lock().unwrap().challenge = param("code_challenge");
    let wrong = browser
        .get(format!("{bot}/oauth/callback?code=the-code&state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 400, "a forged state is refused");
    let param = start_login(&browser, &bot).await;
    fake.lock().unwrap().challenge = param("code_challenge");
    let back = browser
        .get(format!(
            "{bot}/oauth/callback?code=the-code&state={}",
            param("state")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        back.status().as_u16(),
        200,
        "{}",
        back.text().await.unwrap()
    );

    // !ping is answered with pong, as a reply, after the nearly expired token is refreshed.
    assert_eq!(post_chat(&bot, 1, "hello").await, (200, "accepted".into()));
    assert_eq!(post_chat(&bot, 2, "!ping").await, (200, "accepted".into()));
    assert_eq!(
        post_chat(&bot, 2, "!ping").await,
        (200, "duplicate".into()),
        "Kick's redelivery"
    );
    let chats = wait_for_chats(&fake, 1).await;
    assert_eq!(chats[0].0, "Bearer user-token-2");
    assert_eq!(
        chats[0].1,
        json!({ "type": "user", "content": "pong", "broadcaster_user_id": 42, "reply_to_message_id": "chat-2" })
    );
    assert_eq!(
        fake.lock().unwrap().grants,
        ["authorization_code", "refresh_token"]
    );

    // The next !ping uses the fresh token: no second refresh.
    assert_eq!(post_chat(&bot, 3, "!ping").await, (200, "accepted".into()));
    let chats = wait_for_chats(&fake, 2).await;
    assert_eq!(chats.len(), 2, "hello and the redelivery got no answer");
    assert_eq!(chats[1].1["reply_to_message_id"], "chat-3");
    assert_eq!(
        fake.lock().unwrap().grants,
        ["authorization_code", "refresh_token"]
    );
}
