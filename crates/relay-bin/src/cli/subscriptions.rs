//! `kick-relay subscriptions`: Kick's event subscriptions, with the app token.

use std::{path::Path, process::ExitCode};

use anyhow::bail;
use kick_models::{EventType, SubscriptionId, UserId, api::SubscribeRequest};

use super::args::SubscriptionAction;
use crate::{config::Config, reconciler};

fn api_client(config: &Config) -> anyhow::Result<kick_api::KickClient> {
    match reconciler::app_client(config)? {
        Some(client) => Ok(client),
        None => bail!(
            "set kick.client_id and kick.client_secret in the config, or KICK_CLIENT_ID and KICK_CLIENT_SECRET"
        ),
    }
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
            let ids: Vec<SubscriptionId> = ids.into_iter().map(SubscriptionId).collect();
            app.unsubscribe(&ids).await?;
            println!("deleted {} subscription(s)", ids.len());
        }
        SubscriptionAction::Sync => {
            let report = reconciler::reconcile(&client, &config).await?;
            for (broadcaster, event, id) in &report.created {
                println!("broadcaster {broadcaster}: {event} subscribed ({id})");
            }
            for (broadcaster, event, error) in &report.failed {
                println!("broadcaster {broadcaster}: {event} FAILED: {error}");
            }
            if !report.removed.is_empty() {
                println!(
                    "removed {} duplicate subscription(s): {}",
                    report.removed.len(),
                    report
                        .removed
                        .iter()
                        .map(SubscriptionId::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if report.created.is_empty() && report.failed.is_empty() && report.removed.is_empty() {
                println!("up to date");
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
