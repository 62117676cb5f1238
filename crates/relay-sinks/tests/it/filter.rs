//! Event selection by Kick type, multistreamer name and broadcaster.

use kick_models::UserId;
use relay_sinks::{EventFilter, EventSelector};
use serde_json::json;

use crate::support::{chat, json_delivery, official};

#[test]
fn multistreamer_names_select_their_events() {
    let official = official();
    let find = |stem: &str| official.iter().find(|(s, _)| s == stem).unwrap().1.clone();
    let start = EventFilter::from_names(&["stream:start"]).unwrap();
    let end = EventFilter::from_names(&["stream:end"]).unwrap();
    let comments = EventFilter::from_names(&["comment:in"]).unwrap();
    let live = find("livestream.status.updated");
    let ended = find("livestream.status.updated.ended");
    assert!(start.matches(&live) && !start.matches(&ended));
    assert!(end.matches(&ended) && !end.matches(&live));
    assert!(comments.matches(&find("chat.message.sent")) && !comments.matches(&live));
}

#[test]
fn kick_types_and_the_default() {
    let follows = EventFilter::from_names(&["channel.followed", "stream:start"]).unwrap();
    let official = official();
    let matched: Vec<&str> = official
        .iter()
        .filter(|(_, d)| follows.matches(d))
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(matched, ["channel.followed", "livestream.status.updated"]);
    let unknown = json_delivery("channel.raid.started", &json!({}));
    assert!(
        EventFilter::all().matches(&unknown),
        "the default takes unknown events too"
    );
    assert!(!follows.matches(&unknown));
}

#[test]
fn broadcaster_filter() {
    let only_one = EventFilter::all().with_broadcasters([UserId(1)]);
    assert!(only_one.matches(&chat("hi")));
    let other = EventFilter::all().with_broadcasters([UserId(99)]);
    assert!(!other.matches(&chat("hi")));
    assert!(!only_one.matches(&json_delivery("channel.raid.started", &json!({}))));
}

/// A body kick-models cannot read (a new version, a changed shape) still reaches the outputs
/// that select it: its type, `is_live` and broadcaster are read leniently.
#[test]
fn an_unparsed_body_is_selected_by_what_can_be_read_of_it() {
    let chat_v2 = json_delivery(
        "chat.message.sent",
        &json!({ "broadcaster": { "user_id": 7 }, "content": { "text": "new shape" } }),
    );
    assert!(chat_v2.event().is_none(), "the test needs an unparsed body");
    let mut version_2 = chat("hi");
    version_2.headers.meta.version = "2".into();
    let version_2 = kick_models::Delivery::parse(version_2.headers, version_2.body);
    assert!(matches!(
        version_2.event(),
        Some(kick_models::KickEvent::Unknown(_))
    ));
    assert!(
        EventFilter::from_names(&["comment:in"])
            .unwrap()
            .with_broadcasters([UserId(1)])
            .matches(&version_2),
        "a new version of chat is still chat, of its broadcaster"
    );
    let comments = EventFilter::from_names(&["comment:in"]).unwrap();
    assert!(comments.matches(&chat_v2));
    assert!(
        comments
            .clone()
            .with_broadcasters([UserId(7)])
            .matches(&chat_v2)
    );
    assert!(!comments.with_broadcasters([UserId(8)]).matches(&chat_v2));
    let live = json_delivery(
        "livestream.status.updated",
        &json!({ "broadcaster": { "user_id": 7 }, "is_live": true, "title": 5 }),
    );
    assert!(live.event().is_none());
    assert!(
        EventFilter::from_names(&["stream:start"])
            .unwrap()
            .matches(&live)
    );
    assert!(
        !EventFilter::from_names(&["stream:end"])
            .unwrap()
            .matches(&live)
    );
}

#[test]
fn a_typo_is_refused_with_the_valid_names() {
    let err = EventFilter::from_names(&["chat.mesage.sent"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"chat.mesage.sent\""), "{err}");
    assert!(
        err.contains("stream:start") && err.contains("kicks.gifted"),
        "{err}"
    );
    assert_eq!(
        "comment:in".parse::<EventSelector>().unwrap().to_string(),
        "comment:in"
    );
}
