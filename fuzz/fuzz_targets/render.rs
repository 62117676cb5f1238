//! Discord, Raw and Forward rendering of arbitrary deliveries: never panics; Discord output
//! never exceeds its limits and always disables mentions, also when chat lines are combined.
#![no_main]

use kick_models::{Delivery, DeliveryMeta, EventType, Timestamp, WebhookHeaders};
use libfuzzer_sys::fuzz_target;
use relay_sinks::{DiscordSink, EventFilter, ForwardSink, HttpOptions, RawSink, Sink};
use std::sync::LazyLock;

/// Sinks are built once: building one creates an HTTP client, far slower than rendering.
static SINKS: LazyLock<(DiscordSink, RawSink, ForwardSink)> = LazyLock::new(|| {
    let url = "http://127.0.0.1:9/x";
    (
        DiscordSink::new("d", url, EventFilter::all(), HttpOptions::default()).expect("sink"),
        RawSink::new("r", url, EventFilter::all(), None, HttpOptions::default()).expect("sink"),
        ForwardSink::new("f", url, EventFilter::all(), HttpOptions::default()).expect("sink"),
    )
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let event_type = EventType::KNOWN
        .get(usize::from(selector) % (EventType::KNOWN.len() + 1))
        .cloned()
        .unwrap_or_else(|| EventType::from("x.unknown"));
    let headers = WebhookHeaders {
        meta: DeliveryMeta {
            message_id: "01FUZZ".into(),
            subscription_id: None,
            timestamp: Timestamp::parse("2025-02-21T23:23:36Z").expect("timestamp"),
            event_type,
            version: "1".into(),
        },
        signature: "sig".into(),
    };
    let delivery = Delivery::parse(headers, body.to_vec());
    let (discord, raw, forward) = &*SINKS;
    if discord.wants(&delivery) {
        let request = discord
            .render(&delivery)
            .expect("a wanted delivery renders");
        let json: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON");
        assert_eq!(json["allowed_mentions"]["parse"], serde_json::json!([]));
        let content = json["content"].as_str().expect("content");
        assert!(!content.trim().is_empty() && content.chars().count() <= 2000);
        assert!(!content.contains("@everyone") && !content.contains("@here"));
        // The same delivery as lines of a combined message, after a "skipped" line.
        if let Some(line) = discord.batch_line(&delivery) {
            let lines = [line.as_str(), line.as_str(), line.as_str()];
            let (combined, used) = discord.combine(&lines, usize::from(selector)).expect("combines");
            assert!((1..=3).contains(&used));
            let json: serde_json::Value = serde_json::from_slice(&combined.body).expect("JSON");
            assert_eq!(json["allowed_mentions"]["parse"], serde_json::json!([]));
            let content = json["content"].as_str().expect("content");
            assert!(content.chars().count() <= 2000);
            assert!(!content.contains("@everyone") && !content.contains("@here"));
        }
    }
    let _ = raw.render(&delivery);
    assert_eq!(
        forward.render(&delivery).expect("forward renders").body,
        body
    );
});
