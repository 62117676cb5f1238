//! Raw rendering: multistreamer's keys for its three events, the envelope for the rest.

use kick_models::Delivery;
use relay_sinks::{EventFilter, HttpOptions, RawSink, Sink};
use serde_json::{Value, json};

use crate::support::{chat, delivery, json_delivery, official};

fn sink() -> RawSink {
    RawSink::new(
        "raw-test",
        "http://127.0.0.1:9/hook".parse().unwrap(),
        EventFilter::all(),
        None,
        HttpOptions::default(),
    )
    .unwrap()
}

fn render(delivery: &Delivery) -> Value {
    let request = sink().render(delivery).unwrap();
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("webhook-id"),
        Some("01JMND5PS7XQ0V3F9E2B4C6D8A")
    );
    serde_json::from_slice(&request.body).unwrap()
}

#[test]
fn every_official_payload() {
    for (stem, delivery) in official() {
        assert!(sink().wants(&delivery), "{stem}");
        insta::assert_snapshot!(
            format!("raw__{stem}"),
            serde_json::to_string_pretty(&render(&delivery)).unwrap()
        );
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn multistreamer_keys_are_all_there() {
    let official = official();
    let find = |stem: &str| official.iter().find(|(s, _)| s == stem).unwrap().1.clone();
    let start = render(&find("livestream.status.updated"));
    assert_eq!(
        keys(&start),
        ["accounts", "hook_type", "kick", "stream", "user"]
    );
    assert_eq!(start["hook_type"], "stream:start");
    assert_eq!(
        keys(&start["accounts"][0]),
        ["http_url", "id", "name", "network", "slug"]
    );
    assert_eq!(
        start["accounts"][0]["network"],
        json!({ "displayname": "Kick", "name": "kick" })
    );
    assert_eq!(
        start["accounts"][0]["http_url"],
        "https://kick.com/broadcaster_channel"
    );
    assert_eq!(keys(&start["user"]), ["id", "username"]);
    assert_eq!(keys(&start["stream"]), ["id", "name", "slug"]);

    let end = render(&find("livestream.status.updated.ended"));
    assert_eq!(keys(&end), ["hook_type", "kick", "stream", "user"]);
    assert_eq!(end["hook_type"], "stream:end");

    let comment = render(&find("chat.message.sent"));
    assert_eq!(
        keys(&comment),
        [
            "account",
            "from",
            "hook_type",
            "kick",
            "markdown",
            "network",
            "stream",
            "text",
            "type",
            "user"
        ]
    );
    assert_eq!(comment["hook_type"], "comment:in");
    assert_eq!(
        comment["from"]["id"], "987654321",
        "multistreamer writes from.id as a string"
    );
    assert_eq!(comment["text"], "Hello HYPERCLAP HYPERCLAP KEKW");
    assert_eq!(comment["kick"]["badges"][1]["count"], 5);
    assert_eq!(
        comment["kick"]["reply_to"]["message_id"],
        "unique_message_id_456"
    );
}

#[test]
fn markdown_escapes_and_shows_emotes_as_images() {
    let body = render(&chat("Here's a comment! [emote:25:Kappa] *not bold*"));
    assert_eq!(body["text"], "Here's a comment! Kappa *not bold*");
    assert_eq!(
        body["markdown"],
        "Here's a comment\\! ![Kappa](https://files.kick.com/emotes/25/fullsize) \\*not bold\\*"
    );
}

#[test]
fn other_and_unknown_events_use_the_envelope_with_the_payload_as_sent() {
    let raw_body = br#"{"raid":{"from":"a","viewers":120},"n":1.50}"#;
    let unknown = delivery("channel.raid.started", raw_body);
    let request = sink().render(&unknown).unwrap();
    let text = request.body_text();
    assert!(
        text.contains(r#""event":{"raid":{"from":"a","viewers":120},"n":1.50}"#),
        "{text}"
    );
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["hook_type"], "kick:channel.raid.started");
    assert_eq!(body["version"], "1");
    assert_eq!(body["message_id"], "01JMND5PS7XQ0V3F9E2B4C6D8A");
    assert_eq!(body["timestamp"], "2025-02-21T23:23:36Z");
}

#[test]
fn a_body_that_did_not_parse_is_still_relayed_in_the_envelope() {
    let unparsed = json_delivery("chat.message.sent", &json!({ "content": 5 }));
    let body = render(&unparsed);
    assert_eq!(body["hook_type"], "kick:chat.message.sent");
    assert_eq!(body["parsed"], false);
    assert_eq!(body["event"], json!({ "content": 5 }));
}

/// What Kick signed reaches the receiver whatever it is: text as a string, other bytes in
/// Base64, `event` null.
#[test]
fn a_body_that_is_not_json_is_carried_as_text_or_base64() {
    for (body, encoding, carried) in [
        (&b"not json {"[..], "utf-8", json!("not json {")),
        (b"", "utf-8", json!("")),
        (b"\xff\xfe\x00k", "base64", json!("//4Aaw==")),
    ] {
        let rendered = render(&delivery("kicks.gifted", body));
        assert_eq!(rendered["hook_type"], "kick:kicks.gifted");
        assert_eq!(rendered["parsed"], false);
        assert_eq!(rendered["event"], Value::Null);
        assert_eq!(rendered["body_encoding"], encoding, "{rendered}");
        assert_eq!(rendered["body"], carried, "{rendered}");
    }
    let json = render(&json_delivery("kicks.gifted", &json!({ "n": 1 })));
    assert!(
        json.get("body").is_none() && json.get("body_encoding").is_none(),
        "a JSON body is only in event: {json}"
    );
}
