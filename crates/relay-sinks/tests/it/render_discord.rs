//! Discord rendering: a snapshot per official payload and per quirk, and the safety rules.

use kick_models::Delivery;
use relay_sinks::{DiscordSink, EventFilter, HttpOptions, Sink};
use serde_json::{Value, json};

use crate::support::{chat, json_delivery, official, user};

fn sink() -> DiscordSink {
    DiscordSink::new(
        "discord-test",
        "http://127.0.0.1:9/api/webhooks/1/token".parse().unwrap(),
        EventFilter::all(),
        HttpOptions::default(),
    )
    .unwrap()
}

fn render(delivery: &Delivery) -> Value {
    let request = sink().render(delivery).unwrap();
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body["allowed_mentions"],
        json!({ "parse": [] }),
        "every message disables mentions"
    );
    body
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

#[test]
fn every_official_payload() {
    for (stem, delivery) in official() {
        assert!(sink().wants(&delivery), "{stem}");
        insta::assert_snapshot!(format!("discord__{stem}"), pretty(&render(&delivery)));
    }
}

#[test]
fn multistreamer_stream_messages() {
    let official = official();
    let find = |stem: &str| official.iter().find(|(s, _)| s == stem).unwrap().1.clone();
    let live = render(&find("livestream.status.updated"));
    assert_eq!(
        live["content"],
        "broadcaster\\_name is now streaming! https://kick.com/broadcaster_channel"
    );
    assert_eq!(live["username"], "broadcaster_name");
    let ended = render(&find("livestream.status.updated.ended"));
    assert_eq!(ended["content"], "broadcaster\\_name has stopped streaming");
}

#[test]
fn chat_is_the_text_from_sender_at_kick_with_avatar() {
    let body = render(&chat("Hello [emote:37226:KEKW]"));
    assert_eq!(body["content"], "Hello KEKW");
    assert_eq!(body["username"], "viewer_1 @ Kick");
    assert_eq!(
        body["avatar_url"],
        "https://files.kick.com/images/user/2/profile.webp"
    );
}

#[test]
fn mentions_and_masked_links_cannot_ping_or_disguise() {
    let body = render(&chat(
        "@everyone @here <@123> <@&456> <#789> [free nitro](https://evil.example) <:kek:1>",
    ));
    insta::assert_snapshot!("discord__chat_mentions", pretty(&body));
    let content = body["content"].as_str().unwrap();
    assert!(
        !content.contains("@everyone") && !content.contains("@here"),
        "{content}"
    );
    for raw in ["<@123>", "<@&456>", "<#789>", "[free nitro](", "<:kek:1>"] {
        assert!(!content.contains(raw), "{raw} survived in {content}");
    }
}

#[test]
fn markdown_characters_are_literal() {
    let body = render(&chat(
        "**bold** __u__ ~~s~~ `code` ||spoiler|| > quote\n# heading\n- item \\o/",
    ));
    insta::assert_snapshot!("discord__chat_markdown", pretty(&body));
}

#[test]
fn long_chat_is_cut_to_2000_characters_with_an_ellipsis() {
    let body = render(&chat(&"a".repeat(3000)));
    let content = body["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 2000);
    assert!(content.ends_with('…'));
}

#[test]
fn unicode_and_emoji_are_cut_at_a_character_boundary() {
    let text = "é🎉".repeat(1500);
    let body = render(&chat(&text));
    let content = body["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 2000);
    assert!(content.starts_with("é🎉é🎉"));
    assert!(content.ends_with('…'));
    insta::assert_snapshot!(
        "discord__chat_unicode_tail",
        content.chars().rev().take(8).collect::<String>()
    );
}

#[test]
fn a_cut_never_leaves_a_dangling_escape() {
    let body = render(&chat(&"*".repeat(3000)));
    let content = body["content"].as_str().unwrap();
    assert!(content.chars().count() <= 2000);
    assert!(
        content.ends_with("\\*…"),
        "{}",
        &content[content.len() - 10..]
    );
}

#[test]
fn usernames_follow_discords_rules() {
    let mut sender = user(2, "x");
    sender["username"] = json!("Discord@Clyde#Fan:```");
    let body = render(&json_delivery(
        "chat.message.sent",
        &json!({
            "message_id": "m", "broadcaster": user(1, "s"), "sender": sender, "content": "hi"
        }),
    ));
    assert_eq!(body["username"], "Fan @ Kick");
    let mut sender = user(2, "x");
    sender["username"] = json!("n".repeat(120));
    let body = render(&json_delivery(
        "chat.message.sent",
        &json!({
            "message_id": "m", "broadcaster": user(1, "s"), "sender": sender, "content": "hi"
        }),
    ));
    let name = body["username"].as_str().unwrap();
    assert!(name.ends_with(" @ Kick"));
    assert!(name.chars().count() <= 80 + " @ Kick".len(), "{name}");
}

#[test]
fn an_empty_message_is_never_sent() {
    let delivery = chat("   ");
    assert!(!sink().wants(&delivery));
    assert!(sink().render(&delivery).is_err());
}

#[test]
fn quirky_payloads() {
    let anonymous = json_delivery(
        "channel.subscription.gifts",
        &json!({
            "broadcaster": user(1, "Streamer"),
            "gifter": { "is_anonymous": true, "user_id": null, "username": null, "is_verified": null,
                        "profile_picture": null, "channel_slug": null, "identity": null },
            "giftees": (0..12).map(|i| user(10 + i, &format!("lucky{i}"))).collect::<Vec<_>>(),
            "created_at": "2026-02-20T15:03:20.191347293Z"
        }),
    );
    insta::assert_snapshot!("discord__gifts_anonymous", pretty(&render(&anonymous)));

    let capital = json_delivery(
        "livestream.metadata.updated",
        &json!({
            "broadcaster": user(1, "Streamer"),
            "metadata": { "title": "Late night *chill*", "language": "en", "has_mature_content": true,
                          "Category": { "id": 15, "name": "Just Chatting", "thumbnail": "" } }
        }),
    );
    insta::assert_snapshot!(
        "discord__metadata_capital_category",
        pretty(&render(&capital))
    );

    let permanent = json_delivery(
        "moderation.banned",
        &json!({
            "broadcaster": user(1, "Streamer"), "moderator": user(2, "mod"), "banned_user": user(3, "troll"),
            "metadata": { "reason": "", "created_at": "2025-01-14T16:08:05Z", "expires_at": null }
        }),
    );
    assert_eq!(render(&permanent)["content"], "mod banned troll");

    let pending = json_delivery(
        "channel.reward.redemption.updated",
        &json!({
            "id": "01KBHE78QE4HZY1617DK5FC7YD", "user_input": "play <@&1> song", "status": "pending",
            "redeemed_at": "2025-12-02T22:54:19.323Z",
            "reward": { "id": "01KBHE7RZNHB0SKDV1H86CD4F3", "title": "Song request", "cost": 1, "description": "" },
            "redeemer": { "user_id": 123, "username": "fan", "is_verified": false, "profile_picture": "", "channel_slug": "fan" },
            "broadcaster": { "user_id": 333, "username": "gigachad", "is_verified": true, "profile_picture": "", "channel_slug": "gigachad" }
        }),
    );
    let body = render(&pending);
    assert_eq!(
        body["content"],
        "fan redeemed Song request for 1 point: play \\<@&1\\> song"
    );
    assert!(
        body.get("avatar_url").is_none(),
        "an empty profile picture is no avatar"
    );
}

/// An event kick-models cannot read is taken (so it gets a row, counted as skipped when its
/// rendering says why), never silently declined: a new version at Kick shows.
#[test]
fn unknown_and_unparsed_events_are_taken_and_say_why_nothing_is_sent() {
    let unknown = json_delivery("channel.raid.started", &json!({ "raid": 1 }));
    assert!(sink().wants(&unknown));
    let err = sink().render(&unknown).unwrap_err().to_string();
    assert!(
        err.contains("channel.raid.started version 1 (a type this relay does not know)"),
        "{err}"
    );
    let unparsed = json_delivery("chat.message.sent", &json!({ "content": 5 }));
    assert!(sink().wants(&unparsed));
    let err = sink().render(&unparsed).unwrap_err().to_string();
    assert!(
        err.contains("no Discord message for chat.message.sent version 1: "),
        "{err}"
    );
    let mut chat_v2 = chat("hello");
    chat_v2.headers.meta.version = "2".into();
    let chat_v2 = Delivery::parse(chat_v2.headers, chat_v2.body);
    assert!(sink().wants(&chat_v2));
    let err = sink().render(&chat_v2).unwrap_err().to_string();
    assert!(
        err.contains("chat.message.sent version 2 (this relay reads version 1)"),
        "{err}"
    );
}
