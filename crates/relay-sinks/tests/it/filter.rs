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
