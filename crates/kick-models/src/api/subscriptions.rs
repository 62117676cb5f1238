//! Event subscriptions (`/public/v1/events/subscriptions`).

use serde::{Deserialize, Serialize};

use crate::{EventType, SubscriptionId, UserId};

/// One of the app's event subscriptions.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct EventSubscription {
    /// Subscription id (ULID); the `Kick-Event-Subscription-Id` of its deliveries.
    pub id: SubscriptionId,
    /// The app's id.
    #[serde(default)]
    pub app_id: String,
    /// The channel.
    pub broadcaster_user_id: UserId,
    /// The event type (`event` here, `name` when creating).
    pub event: EventType,
    /// The event version.
    pub version: u32,
    /// Delivery method; only `webhook` exists.
    #[serde(default)]
    pub method: String,
    /// When created (RFC 3339 text as sent).
    #[serde(default)]
    pub created_at: String,
    /// When last updated.
    #[serde(default)]
    pub updated_at: String,
}

/// `POST /public/v1/events/subscriptions` body.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SubscribeRequest {
    /// Required with an app token; ignored with a user token (the token's channel is used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcaster_user_id: Option<UserId>,
    /// The events to subscribe to.
    pub events: Vec<SubscribeEvent>,
    /// Always `webhook`.
    pub method: String,
}

impl SubscribeRequest {
    /// Version 1 of each event, by webhook.
    pub fn new(broadcaster_user_id: Option<UserId>, events: &[EventType]) -> Self {
        Self {
            broadcaster_user_id,
            events: events
                .iter()
                .map(|event| SubscribeEvent {
                    name: event.clone(),
                    version: 1,
                })
                .collect(),
            method: "webhook".into(),
        }
    }
}

/// One event in a subscribe request.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SubscribeEvent {
    /// Event type.
    pub name: EventType,
    /// Event version.
    pub version: u32,
}

/// The result for one requested event. A 200 answer can hold failures: check `error`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SubscribeResult {
    /// Event type.
    pub name: EventType,
    /// Event version.
    pub version: u32,
    /// The new subscription's id; `None` on failure.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub subscription_id: Option<SubscriptionId>,
    /// Why this event failed; `None` on success.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub error: Option<String>,
}
