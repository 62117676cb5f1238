//! Deliveries from Kick's official payloads, plus unknown and unparsed ones.

use std::{path::Path, sync::Arc};

use kick_models::{Delivery, DeliveryMeta, EventType, Timestamp, WebhookHeaders};

pub(crate) fn delivery(event_type: &str, body: &[u8]) -> Arc<Delivery> {
    let headers = WebhookHeaders {
        meta: DeliveryMeta {
            message_id: format!("01J{event_type}"),
            subscription_id: None,
            timestamp: Timestamp::parse("2025-02-21T23:23:36Z").unwrap(),
            event_type: EventType::from(event_type),
            version: "1".into(),
        },
        signature: "sig".into(),
    };
    Arc::new(Delivery::parse(headers, body.to_vec()))
}

/// One delivery per known event type, from `fixtures/kick/payloads/`.
pub(crate) fn official() -> Vec<Arc<Delivery>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kick/payloads");
    EventType::KNOWN
        .iter()
        .map(|t| {
            let body = std::fs::read(dir.join(format!("{t}.v1.json"))).unwrap();
            let d = delivery(t.as_str(), &body);
            assert!(d.event.is_ok());
            d
        })
        .collect()
}

pub(crate) fn chat() -> Arc<Delivery> {
    official().remove(0)
}

pub(crate) fn unknown() -> Arc<Delivery> {
    delivery("channel.raid.started", br#"{"raid": true}"#)
}

pub(crate) fn unparsed_chat() -> Arc<Delivery> {
    delivery("chat.message.sent", br#"{"content": 5}"#)
}
