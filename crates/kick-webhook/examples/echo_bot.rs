//! A Kick bot that answers `!ping` with `pong` in the channel's chat.
//!
//! It receives chat through [`kick_webhook::Receiver`], logs its user in with Kick's OAuth 2.1
//! flow (PKCE) at `/login` → Kick → `/oauth/callback`, and answers with kick-api's chat send,
//! which refreshes the user token before it expires. See the crate README for the set-up.
//!
//! Environment: `KICK_CLIENT_ID`, `KICK_CLIENT_SECRET`, `PUBLIC_URL` (where Kick reaches the
//! bot, e.g. `https://bot.example.com`), optional `PORT` (3000), and for local stand-ins
//! `KICK_API_BASE`, `KICK_OAUTH_BASE`, `KICK_PUBLIC_KEY_FILE`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{
    error::Error,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use kick_api::{AuthorizationRequest, KickClient, MemoryTokenStore, UserSession};
use kick_dispatch::{Dispatcher, Envelope, events};
use kick_models::api::{ChatSend, ChatSenderType};
use kick_verify::PublicKey;
use kick_webhook::{KeyStore, Receiver};

/// What the bot needs to know, from the environment.
#[derive(Debug)]
pub struct Settings {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// Where Kick reaches the bot (the redirect URL is this + `/oauth/callback`).
    pub public_url: String,
    /// Kick's REST API, when not `https://api.kick.com`.
    pub api_base: Option<String>,
    /// Kick's OAuth server, when not `https://id.kick.com`.
    pub oauth_base: Option<String>,
    /// A PEM key to verify webhooks with instead of Kick's published one.
    pub public_key_file: Option<String>,
}

impl Settings {
    /// Reads the environment.
    ///
    /// # Errors
    /// A required variable that is not set, named.
    pub fn from_env() -> Result<Self, String> {
        let need = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
        Ok(Self {
            client_id: need("KICK_CLIENT_ID")?,
            client_secret: need("KICK_CLIENT_SECRET")?,
            public_url: need("PUBLIC_URL")?,
            api_base: std::env::var("KICK_API_BASE").ok(),
            oauth_base: std::env::var("KICK_OAUTH_BASE").ok(),
            public_key_file: std::env::var("KICK_PUBLIC_KEY_FILE").ok(),
        })
    }
}

/// The bot: a Kick client, the login in progress and the logged-in user's session.
struct Bot {
    client: KickClient,
    redirect_uri: String,
    login: Mutex<Option<AuthorizationRequest>>,
    session: Mutex<Option<Arc<UserSession>>>,
}

impl Bot {
    /// Answers `!ping` with `pong`, as a reply, in the channel the message was sent in.
    async fn answer(&self, chat: Envelope<events::ChatMessageSent>) -> Result<(), String> {
        if chat.content.trim() != "!ping" {
            return Ok(());
        }
        println!("!ping from {}", chat.sender.username);
        let session = self
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or("!ping before anyone logged in at /login")?;
        let message = ChatSend {
            sender: ChatSenderType::User,
            content: "pong".into(),
            broadcaster_user_id: Some(chat.broadcaster.user_id),
            reply_to_message_id: Some(chat.message_id.clone()),
        };
        let sent = self
            .client
            .user(&session)
            .send_chat(&message)
            .await
            .map_err(|err| err.to_string())?;
        println!(
            "answered {} with pong ({})",
            chat.sender.username, sent.message_id
        );
        Ok(())
    }
}

/// The bot's routes: `POST /webhooks/kick`, `GET /login`, `GET /oauth/callback`.
///
/// # Errors
/// A key file or client that cannot be set up.
pub fn app(settings: Settings) -> Result<Router, Box<dyn Error + Send + Sync>> {
    let mut builder = KickClient::builder().credentials(settings.client_id, settings.client_secret);
    if let Some(base) = settings.api_base {
        builder = builder.api_base_url(base);
    }
    if let Some(base) = settings.oauth_base {
        builder = builder.oauth_base_url(base);
    }
    let client = builder.build()?;
    let keys = match settings.public_key_file {
        Some(path) => KeyStore::new(PublicKey::from_pem(&std::fs::read_to_string(path)?)?, None),
        None => KeyStore::new(PublicKey::kick()?, Some(client.clone())),
    };
    let bot = Arc::new(Bot {
        client,
        redirect_uri: format!(
            "{}/oauth/callback",
            settings.public_url.trim_end_matches('/')
        ),
        login: Mutex::new(None),
        session: Mutex::new(None),
    });
    let bus = Dispatcher::new();
    let answering = Arc::clone(&bot);
    bus.listen_async(events::ChatMessageSent, move |chat| {
        let bot = Arc::clone(&answering);
        async move {
            // Said where the operator looks: a bot that stays quiet is otherwise a mystery.
            let answered = bot.answer(chat).await;
            if let Err(why) = &answered {
                eprintln!("cannot answer: {why}");
            }
            answered
        }
    });
    let receiver = Receiver::with_keys(bus, keys).router("/webhooks/kick");
    let login = Router::new()
        .route("/login", get(login))
        .route("/oauth/callback", get(callback))
        .with_state(bot);
    Ok(receiver.merge(login))
}

/// Sends the browser to Kick's consent page.
async fn login(State(bot): State<Arc<Bot>>) -> Response {
    match bot.client.authorize_url(
        &bot.redirect_uri,
        &[
            kick_api::Scope::ChatWrite,
            kick_api::Scope::UserRead,
            kick_api::Scope::EventsSubscribe,
        ],
    ) {
        Ok(request) => {
            let url = request.url.clone();
            *bot.login.lock().unwrap_or_else(PoisonError::into_inner) = Some(request);
            Redirect::to(&url).into_response()
        }
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
    }
}

/// Kick's redirect: `?code=…&state=…`.
#[derive(Debug, serde::Deserialize)]
struct Callback {
    code: String,
    state: String,
}

/// Exchanges the code for the user's tokens (PKCE) and keeps the session.
async fn callback(State(bot): State<Arc<Bot>>, Query(back): Query<Callback>) -> Response {
    let pending = bot
        .login
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let Some(request) = pending.filter(|r| r.state == back.state) else {
        return (
            StatusCode::BAD_REQUEST,
            "unknown or used login state; start again at /login",
        )
            .into_response();
    };
    match bot
        .client
        .exchange_code(&back.code, &bot.redirect_uri, &request.code_verifier)
        .await
    {
        Ok(token) => {
            let session = UserSession::new(Arc::new(MemoryTokenStore::new(token)));
            *bot.session.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(session));
            "logged in: type !ping in your chat".into_response()
        }
        Err(err) => (
            StatusCode::BAD_GATEWAY,
            format!("Kick refused the code: {err}"),
        )
            .into_response(),
    }
}

#[tokio::main]
#[allow(dead_code)] // the end-to-end test includes this file and starts `app` itself
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let settings = Settings::from_env()?;
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    println!(
        "listening on 0.0.0.0:{port}: webhooks at {0}/webhooks/kick; open {0}/login to log the bot in",
        settings.public_url
    );
    let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
    axum::serve(listener, app(settings)?).await?;
    Ok(())
}
