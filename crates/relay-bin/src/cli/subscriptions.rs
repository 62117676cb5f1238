//! `kick-relay subscriptions`: Kick's event subscriptions, with the app token.

use std::{path::Path, process::ExitCode};

use anyhow::bail;
use kick_models::{EventType, UserId, api::SubscribeRequest};

use super::args::SubscriptionAction;
use crate::config::Config;

fn api_client(config: &Config) -> anyhow::Result<kick_api::KickClient> {
    let (Some(id), Some(secret)) = (&config.kick.client_id, &config.kick.client_secret) else {
        bail!(
            "set kick.client_id and kick.client_secret in the config, or KICK_CLIENT_ID and KICK_CLIENT_SECRET"
        );
    };
    Ok(kick_api::KickClient::builder()
        .api_base_url(&config.kick.api_base_url)
        .oauth_base_url(&config.kick.oauth_base_url)
        .credentials(id.clone(), secret.as_str())
        .build()?)
}

pub(super) async fn subscriptions(
    config_path: Option<&Path>,
    action: SubscriptionAction,
) -> anyhow::Result<ExitCode> {
    let (config, _) = Config::load(config_path)?;
    let client = api_client(&config)?;
    let app = client.app();
    match action {
        SubscriptionAction::List => {
            for sub in app.subscriptions(None).await? {
                println!(
                    "{}  {:<34} v{}  broadcaster {}  created {}",
                    sub.id, sub.event, sub.version, sub.broadcaster_user_id, sub.created_at
                );
            }
        }
        SubscriptionAction::Create {
            broadcaster_user_id,
            events,
        } => {
            let events: Vec<EventType> =
                events.iter().map(|e| EventType::from(e.as_str())).collect();
            if let Some(unknown) = events.iter().find(|e| e.is_unknown()) {
                bail!("{unknown:?} is not a Kick event type");
            }
            report_created(
                app.subscribe(&SubscribeRequest::new(
                    Some(UserId(broadcaster_user_id)),
                    &events,
                ))
                .await?,
            );
        }
        SubscriptionAction::Delete { ids } => {
            app.unsubscribe(&ids).await?;
            println!("deleted {} subscription(s)", ids.len());
        }
        SubscriptionAction::Sync => {
            let existing = app.subscriptions(None).await?;
            let mut seen = std::collections::HashSet::new();
            let mut duplicates = Vec::new();
            let mut sorted = existing.clone();
            sorted.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
            for sub in &sorted {
                if !seen.insert((sub.broadcaster_user_id, sub.event.clone(), sub.version)) {
                    duplicates.push(sub.id.clone());
                }
            }
            for wanted in &config.subscriptions {
                let broadcaster = UserId(wanted.broadcaster_user_id);
                let missing: Vec<EventType> = wanted
                    .events
                    .get_ref()
                    .iter()
                    .map(|e| EventType::from(e.as_str()))
                    .filter(|e| !seen.contains(&(broadcaster, e.clone(), 1)))
                    .collect();
                if missing.is_empty() {
                    println!("broadcaster {broadcaster}: up to date");
                } else {
                    report_created(
                        app.subscribe(&SubscribeRequest::new(Some(broadcaster), &missing))
                            .await?,
                    );
                }
            }
            if !duplicates.is_empty() {
                app.unsubscribe(&duplicates).await?;
                println!(
                    "removed {} duplicate subscription(s): {}",
                    duplicates.len(),
                    duplicates.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_created(results: Vec<kick_models::api::SubscribeResult>) {
    for result in results {
        match (result.subscription_id, result.error) {
            (Some(id), _) => println!("{} v{}: subscribed ({id})", result.name, result.version),
            (None, error) => println!(
                "{} v{}: FAILED: {}",
                result.name,
                result.version,
                error.unwrap_or_default()
            ),
        }
    }
}
