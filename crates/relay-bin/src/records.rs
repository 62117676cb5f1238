//! What one accepted delivery becomes in the store: its event row, with the keys that make a
//! repeat a duplicate, and the outputs that take it.

use std::sync::atomic::Ordering;

use kick_models::{Delivery, KickEvent, drops};

use crate::{
    relay::Output,
    store::{BODY_DEDUP_WINDOW, DedupScope, InboxRow, NewDelivery, Status, body_key},
};

/// The event row and one delivery per output that takes the event (skipped for a
/// disabled output), `retention_ms` being how long a chat message id counts as seen.
pub fn records(
    outputs: &[Output],
    retention_ms: i64,
    delivery: &Delivery,
    now_ms: i64,
) -> (InboxRow, Vec<NewDelivery>) {
    let meta = &delivery.headers.meta;
    let claim = drops::is_drop_claim(&delivery.headers)
        .then(|| serde_json::from_slice::<drops::DropClaimed>(&delivery.body).ok())
        .flatten();
    let (dedup_key, dedup_window_ms, dedup_scope) =
        if let Some(KickEvent::ChatMessageSent(chat)) = delivery.event() {
            (
                format!("chat:{}", chat.message_id),
                retention_ms,
                DedupScope::Any,
            )
        } else if let Some(claim) = claim {
            // Kick sends a claim again under a new message id; the claim id says it is one.
            (
                format!("claim:{}", claim.claim_id),
                retention_ms,
                DedupScope::Any,
            )
        } else {
            (
                body_key(meta.event_type.as_str(), &meta.version, &delivery.body),
                i64::try_from(BODY_DEDUP_WINDOW.as_millis()).unwrap_or(i64::MAX),
                DedupScope::OtherSubscription,
            )
        };
    let inbox = InboxRow {
        message_id: meta.message_id.clone(),
        dedup_key: Some(dedup_key),
        dedup_window_ms,
        dedup_scope,
        received_at: now_ms,
        event_type: meta.event_type.as_str().to_owned(),
        version: meta.version.clone(),
        subscription_id: meta.subscription_id.as_ref().map(|id| id.0.clone()),
        timestamp: meta.timestamp.as_str().to_owned(),
        signature: delivery.headers.signature.clone(),
        body: delivery.body.clone(),
        parse_error: delivery.event.as_ref().err().map(ToString::to_string),
    };
    // No request is rendered here: the worker renders it from the stored event when it sends,
    // so a duplicate costs no rendering and the stored rows stay small.
    let outbox = outputs
        .iter()
        .filter(|output| output.sink.wants(delivery))
        .map(|output| {
            let disabled = output.disabled.load(Ordering::Acquire);
            NewDelivery {
                output: output.sink.name().to_owned(),
                status: if disabled {
                    Status::Skipped
                } else {
                    Status::Pending
                },
                last_error: disabled.then(|| "output disabled".to_owned()),
            }
        })
        .collect();
    (inbox, outbox)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, atomic::AtomicBool};

    use kick_models::{EventType, WebhookHeaders};
    use relay_sinks::{DiscordSink, EventFilter, HttpOptions, RawSink, Sink};
    use tokio::sync::Notify;

    use super::*;

    const CHAT: &[u8] = include_bytes!("../../../fixtures/kick/payloads/chat.message.sent.v1.json");
    const FOLLOW: &[u8] =
        include_bytes!("../../../fixtures/kick/payloads/channel.followed.v1.json");

    fn output(sink: Arc<dyn Sink>, disabled: bool) -> Output {
        Output {
            sink,
            schedule: Vec::new(),
            max_age: None,
            in_flight: 1,
            wake: Notify::new(),
            disabled: AtomicBool::new(disabled),
            max_lag: None,
            lease: crate::lease::Lease::new("output:test".into()),
        }
    }

    fn outputs(raw_disabled: bool) -> Vec<Output> {
        let discord = DiscordSink::new(
            "discord",
            "https://discord.com/api/webhooks/1/t".parse().unwrap(),
            EventFilter::all(),
            HttpOptions::default(),
        )
        .unwrap();
        let raw = RawSink::new(
            "raw",
            "https://example.com/hook".parse().unwrap(),
            EventFilter::all(),
            None,
            HttpOptions::default(),
        )
        .unwrap();
        vec![
            output(Arc::new(discord), false),
            output(Arc::new(raw), raw_disabled),
        ]
    }

    fn delivery(event_type: &str, body: &[u8], subscription: &str) -> Delivery {
        let headers = WebhookHeaders::from_pairs([
            ("Kick-Event-Message-Id", "01JRECORDS".as_bytes()),
            ("Kick-Event-Subscription-Id", subscription.as_bytes()),
            ("Kick-Event-Signature", b"c2ln"),
            ("Kick-Event-Message-Timestamp", b"2025-02-21T23:23:36Z"),
            ("Kick-Event-Type", event_type.as_bytes()),
            ("Kick-Event-Version", b"1"),
        ])
        .unwrap();
        Delivery::parse(headers, body.to_vec())
    }

    #[test]
    fn a_chat_message_is_keyed_on_its_message_id_for_the_retention_window() {
        let chat = delivery("chat.message.sent", CHAT, "SUB");
        let (inbox, outbox) = records(&outputs(false), 7 * 86_400_000, &chat, 1_000);
        let KickEvent::ChatMessageSent(message) = chat.event().unwrap() else {
            panic!("a chat message");
        };
        assert_eq!(
            inbox.dedup_key,
            Some(format!("chat:{}", message.message_id))
        );
        assert_eq!(inbox.dedup_scope, DedupScope::Any);
        assert_eq!(inbox.dedup_window_ms, 7 * 86_400_000);
        assert_eq!(inbox.received_at, 1_000);
        assert_eq!(inbox.subscription_id.as_deref(), Some("SUB"));
        let names: Vec<&str> = outbox.iter().map(|row| row.output.as_str()).collect();
        assert_eq!(names, ["discord", "raw"]);
        assert!(outbox.iter().all(|row| row.status == Status::Pending));
    }

    #[test]
    fn other_events_are_keyed_on_their_body_against_other_subscriptions_only() {
        let follow = delivery("channel.followed", FOLLOW, "SUB");
        let (inbox, _) = records(&outputs(false), 7 * 86_400_000, &follow, 0);
        assert!(
            inbox
                .dedup_key
                .as_deref()
                .is_some_and(|k| k.starts_with("body:") && k.len() == 69)
        );
        assert_eq!(inbox.dedup_scope, DedupScope::OtherSubscription);
        assert_eq!(inbox.dedup_window_ms, 30_000);
        // The same body under another type is another key.
        let other = delivery("channel.subscription.new", FOLLOW, "SUB");
        let (other_inbox, _) = records(&outputs(false), 0, &other, 0);
        assert_ne!(inbox.dedup_key, other_inbox.dedup_key);
    }

    #[test]
    fn a_disabled_output_gets_a_skipped_row_and_an_output_that_declines_none() {
        let unknown = delivery("channel.raid.started", br#"{"raid":true}"#, "SUB");
        assert_eq!(
            unknown.headers.meta.event_type,
            EventType::from("channel.raid.started")
        );
        // Discord takes an unknown event (its worker records it as skipped, saying why).
        let (_, outbox) = records(&outputs(true), 0, &unknown, 0);
        let names: Vec<&str> = outbox.iter().map(|row| row.output.as_str()).collect();
        assert_eq!(names, ["discord", "raw"]);
        assert_eq!(outbox[1].status, Status::Skipped);
        assert_eq!(outbox[1].last_error.as_deref(), Some("output disabled"));
        // It declines a chat line with nothing to show.
        let mut blank: serde_json::Value = serde_json::from_slice(CHAT).unwrap();
        blank["content"] = "   ".into();
        let blank = delivery(
            "chat.message.sent",
            &serde_json::to_vec(&blank).unwrap(),
            "SUB",
        );
        let (_, outbox) = records(&outputs(true), 0, &blank, 0);
        let names: Vec<&str> = outbox.iter().map(|row| row.output.as_str()).collect();
        assert_eq!(names, ["raw"], "discord has no message for an empty line");
    }
}
