//! The plan: what is missing is created, duplicates go, the rest is left alone.

use super::*;

fn sub(id: &str, broadcaster: u64, event: &str, created: &str) -> EventSubscription {
    serde_json::from_value(serde_json::json!({
        "id": id, "app_id": "01APP", "broadcaster_user_id": broadcaster, "event": event,
        "version": 1, "method": "webhook", "created_at": created, "updated_at": created
    }))
    .unwrap()
}

fn config(toml: &str) -> Config {
    toml::from_str(toml).unwrap()
}

#[test]
fn missing_events_are_created_and_duplicates_removed_keeping_the_oldest() {
    let config = config(
        "[[subscription]]\nbroadcaster_user_id = 1\nevents = [\"chat.message.sent\", \"channel.followed\"]\n\
         [[subscription]]\nbroadcaster_user_id = 2\nevents = [\"channel.followed\"]\n",
    );
    let existing = [
        sub("B", 1, "chat.message.sent", "2026-01-02T00:00:00Z"),
        sub("A", 1, "chat.message.sent", "2026-01-01T00:00:00Z"),
        sub("C", 2, "channel.followed", "2026-01-01T00:00:00Z"),
        sub("D", 3, "kicks.gifted", "2026-01-01T00:00:00Z"),
    ];
    let plan = plan(&existing, &config);
    assert_eq!(plan.remove, ["B"], "the newer copy goes");
    assert_eq!(
        plan.create,
        [(UserId(1), vec![EventType::from("channel.followed")])]
    );
}

#[test]
fn nothing_to_do_when_kick_has_what_the_list_names() {
    let config =
        config("[[subscription]]\nbroadcaster_user_id = 1\nevents = [\"chat.message.sent\"]\n");
    let existing = [sub("A", 1, "chat.message.sent", "2026-01-01T00:00:00Z")];
    assert_eq!(plan(&existing, &config), Plan::default());
}
