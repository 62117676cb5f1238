//! Keeping Kick's subscriptions as `[[subscription]]` lists: recreate what Kick no longer has
//! (it drops an app's subscription after a day of failed deliveries, or when the app's webhook
//! is switched off) and remove duplicates (Kick accepts them, then sends every event once per
//! copy). `kick-relay subscriptions sync` runs it once; `serve` runs it at start and every
//! `kick.reconcile_interval_secs` on the replica holding the reconciler's lease, when the app's
//! credentials are set. Subscriptions the list does not name are left alone.

use std::{collections::HashSet, sync::Arc, time::Duration};

use kick_models::{
    EventType, SubscriptionId, UserId,
    api::{EventSubscription, SubscribeRequest},
};

use crate::{config::Config, lease, relay::Relay};

/// What to change at Kick.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Events to subscribe, per channel (version 1), in config order.
    pub create: Vec<(UserId, Vec<EventType>)>,
    /// Ids of duplicate subscriptions (all but the oldest of each channel, event and version).
    pub remove: Vec<SubscriptionId>,
}

/// Compares Kick's subscriptions with the wanted ones.
pub fn plan(existing: &[EventSubscription], config: &Config) -> Plan {
    let mut sorted: Vec<&EventSubscription> = existing.iter().collect();
    sorted.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let mut seen = HashSet::new();
    let mut remove = Vec::new();
    for sub in sorted {
        if !seen.insert((sub.broadcaster_user_id, sub.event.clone(), sub.version)) {
            remove.push(sub.id.clone());
        }
    }
    let mut create = Vec::new();
    for wanted in &config.subscriptions {
        let broadcaster = UserId(wanted.broadcaster_user_id);
        let mut missing: Vec<EventType> = Vec::new();
        for event in wanted.events.get_ref() {
            let event = EventType::from(event.as_str());
            if !seen.contains(&(broadcaster, event.clone(), 1)) && !missing.contains(&event) {
                missing.push(event);
            }
        }
        if !missing.is_empty() {
            create.push((broadcaster, missing));
        }
    }
    Plan { create, remove }
}

/// What one run changed.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Subscriptions created: channel, event, new id.
    pub created: Vec<(UserId, EventType, SubscriptionId)>,
    /// Subscriptions Kick refused to create: channel, event, why.
    pub failed: Vec<(UserId, EventType, String)>,
    /// Duplicate subscriptions removed (ids).
    pub removed: Vec<SubscriptionId>,
}

/// The app's API client from the config's credentials; `None` without them.
///
/// # Errors
/// A base URL that is not a URL.
pub fn app_client(config: &Config) -> anyhow::Result<Option<kick_api::KickClient>> {
    let (Some(id), Some(secret)) = (&config.kick.client_id, &config.kick.client_secret) else {
        return Ok(None);
    };
    Ok(Some(
        kick_api::KickClient::builder()
            .api_base_url(&config.kick.api_base_url)
            .oauth_base_url(&config.kick.oauth_base_url)
            .credentials(id.clone(), secret.as_str())
            .timeout(Duration::from_secs(10))
            .build()?,
    ))
}

/// Reads Kick's subscriptions and applies [`plan`].
///
/// # Errors
/// A call that failed as a whole (the report of what was done before is lost; the next run
/// starts from Kick's state again).
pub async fn reconcile(client: &kick_api::KickClient, config: &Config) -> anyhow::Result<Report> {
    let app = client.app();
    let existing = app.subscriptions(None).await?;
    let plan = plan(&existing, config);
    let mut report = Report::default();
    for (broadcaster, events) in &plan.create {
        let results = app
            .subscribe(&SubscribeRequest::new(Some(*broadcaster), events))
            .await?;
        for result in results {
            let event = EventType::from(result.name.as_str());
            match (result.subscription_id, result.error) {
                (Some(id), _) => report.created.push((*broadcaster, event, id)),
                (None, error) => report.failed.push((
                    *broadcaster,
                    event,
                    error.unwrap_or_else(|| "no subscription id and no error".into()),
                )),
            }
        }
    }
    app.unsubscribe(&plan.remove).await?;
    report.removed = plan.remove;
    Ok(report)
}

/// Runs [`reconcile`] at start and every `kick.reconcile_interval_secs` while this replica
/// holds the reconciler's lease, until shutdown. Logs and counts what it changed.
pub async fn run(relay: Arc<Relay>) {
    let config = &relay.config;
    if config.subscriptions.is_empty() || config.kick.reconcile_interval_secs == 0 {
        return;
    }
    let client = match app_client(config) {
        Ok(Some(client)) => client,
        Ok(None) => {
            tracing::info!(
                "no kick.client_id / client_secret: subscriptions are not reconciled (run `kick-relay subscriptions sync` by hand)"
            );
            return;
        }
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "subscriptions are not reconciled");
            return;
        }
    };
    let interval = Duration::from_secs(config.kick.reconcile_interval_secs);
    loop {
        let held = relay
            .singleton(lease::RECONCILER)
            .is_some_and(lease::Lease::is_held);
        let wait = if held {
            once(&relay, &client).await;
            interval
        } else {
            // Look again soon: the holder may die.
            lease::RENEW
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = relay.stopping.cancelled() => return,
        }
    }
}

async fn once(relay: &Relay, client: &kick_api::KickClient) {
    match reconcile(client, &relay.config).await {
        Ok(report) => {
            relay.metrics.reconciled(
                true,
                [
                    report.created.len(),
                    report.failed.len(),
                    report.removed.len(),
                ],
            );
            for (broadcaster, event, id) in &report.created {
                tracing::warn!(%broadcaster, %event, %id, "subscription missing at Kick: created again");
            }
            for (broadcaster, event, error) in &report.failed {
                tracing::error!(%broadcaster, %event, %error, "Kick refused to create a subscription");
            }
            if !report.removed.is_empty() {
                tracing::warn!(ids = %report.removed.iter().map(SubscriptionId::as_str).collect::<Vec<_>>().join(", "), "duplicate subscriptions removed");
            }
        }
        Err(err) => {
            relay.metrics.reconciled(false, [0; 3]);
            tracing::error!(error = %format!("{err:#}"), "cannot reconcile subscriptions; will try again");
        }
    }
}

#[cfg(test)]
mod tests;
