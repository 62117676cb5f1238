//! Deliveries built from Kick's official payloads and from quirky ones; the HTTP stand-in for
//! Discord and other receivers is the test kit's.

use std::path::Path;

use kick_models::{Delivery, DeliveryMeta, EventType, Timestamp, WebhookHeaders};
use serde_json::Value;

/// A delivery of `event_type` v1 with `body`.
pub(crate) fn delivery(event_type: &str, body: &[u8]) -> Delivery {
    let headers = WebhookHeaders {
        meta: DeliveryMeta {
            message_id: "01JMND5PS7XQ0V3F9E2B4C6D8A".into(),
            subscription_id: Some("01JMND5PS7XQ0V3F9E2B4C6D8B".into()),
            timestamp: Timestamp::parse("2025-02-21T23:23:36Z").unwrap(),
            event_type: EventType::from(event_type),
            version: "1".into(),
        },
        signature: "c2lnbmF0dXJl".into(),
    };
    Delivery::parse(headers, body.to_vec())
}

/// A delivery of `event_type` with a JSON body.
pub(crate) fn json_delivery(event_type: &str, body: &Value) -> Delivery {
    delivery(event_type, &serde_json::to_vec(body).unwrap())
}

/// Kick's official example payloads, by file stem (`chat.message.sent`, …,
/// `livestream.status.updated.ended`).
pub(crate) fn official() -> Vec<(String, Delivery)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kick/payloads");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .chain(std::fs::read_dir(dir.join("variants")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            let (event_type, rest) = file.split_once(".v1").unwrap();
            let stem = format!("{event_type}{}", rest.trim_end_matches(".json"));
            let body = std::fs::read(&path).unwrap();
            let delivery = delivery(event_type, &body);
            assert!(delivery.event.is_ok(), "{file}: {:?}", delivery.event);
            (stem, delivery)
        })
        .collect()
}

/// A user in Kick's full shape.
pub(crate) fn user(id: u64, name: &str) -> Value {
    serde_json::json!({
        "is_anonymous": false, "user_id": id, "username": name, "is_verified": false,
        "profile_picture": format!("https://files.kick.com/images/user/{id}/profile.webp"),
        "channel_slug": name.to_lowercase(), "identity": null
    })
}

/// A chat message from `sender` with `content`.
pub(crate) fn chat(content: &str) -> Delivery {
    json_delivery(
        "chat.message.sent",
        &serde_json::json!({
            "message_id": "bb9832e4-e865-48f4-9c6c-2a3b4c5d6e7f",
            "broadcaster": user(1, "Streamer"),
            "sender": user(2, "viewer_1"),
            "content": content,
            "emotes": null,
        }),
    )
}

pub(crate) use kick_testkit::{Reply, StandIn as Server};
