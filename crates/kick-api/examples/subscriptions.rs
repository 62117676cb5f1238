//! Lists, creates and deletes Kick event subscriptions with the app token.
//!
//! ```sh
//! KICK_CLIENT_ID=… KICK_CLIENT_SECRET=… cargo run -p kick-api --example subscriptions -- list
//! … -- create 123456 chat.message.sent livestream.status.updated
//! … -- delete 01JSUBSCRIPTIONID…
//! ```
//! `KICK_API_BASE_URL` / `KICK_OAUTH_BASE_URL` point it elsewhere (e.g. a local stand-in).

#![allow(clippy::print_stdout)]

use std::{env, process::ExitCode};

use kick_api::KickClient;
use kick_models::{EventType, SubscriptionId, UserId, api::SubscribeRequest};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("subscriptions: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Vec<String>) -> Result<(), String> {
    let var = |name: &str| {
        env::var(name).map_err(|_| format!("set {name} (your Kick app's credentials)"))
    };
    let mut builder =
        KickClient::builder().credentials(var("KICK_CLIENT_ID")?, var("KICK_CLIENT_SECRET")?);
    if let Ok(url) = env::var("KICK_API_BASE_URL") {
        builder = builder.api_base_url(url);
    }
    if let Ok(url) = env::var("KICK_OAUTH_BASE_URL") {
        builder = builder.oauth_base_url(url);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let app = client.app();
    match args.first().map(String::as_str) {
        Some("list") => {
            for sub in app.subscriptions(None).await.map_err(|e| e.to_string())? {
                println!(
                    "{}  {}  v{}  broadcaster {}",
                    sub.id, sub.event, sub.version, sub.broadcaster_user_id
                );
            }
        }
        Some("create") if args.len() >= 3 => {
            let broadcaster: UserId = args[1]
                .parse()
                .map_err(|_| format!("{:?} is not a user id", args[1]))?;
            let events: Vec<EventType> = args[2..]
                .iter()
                .map(|name| EventType::from(name.as_str()))
                .collect();
            let results = app
                .subscribe(&SubscribeRequest::new(Some(broadcaster), &events))
                .await
                .map_err(|e| e.to_string())?;
            for result in results {
                match (result.subscription_id, result.error) {
                    (Some(id), _) => println!("{}: subscribed ({id})", result.name),
                    (None, error) => {
                        println!("{}: failed: {}", result.name, error.unwrap_or_default());
                    }
                }
            }
        }
        Some("delete") if args.len() >= 2 => {
            let ids: Vec<SubscriptionId> = args[1..].iter().map(|id| id.as_str().into()).collect();
            app.unsubscribe(&ids).await.map_err(|e| e.to_string())?;
            println!("deleted {}", args.len() - 1);
        }
        _ => return Err(
            "usage: subscriptions list | create BROADCASTER_ID EVENT… | delete SUBSCRIPTION_ID…"
                .into(),
        ),
    }
    Ok(())
}
