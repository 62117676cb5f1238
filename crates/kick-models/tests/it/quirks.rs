//! Real deliveries differ from Kick's docs (SPEC.md §2.1 and §6). Each quirk gets a test.

use kick_models::{
    EventType, Gifter, KickEvent, ParseErrorKind,
    event::{ChatMessage, KicksGifted, LivestreamMetadata, SubscriptionGifts},
};
use serde_json::{Value, json};

fn full_user(id: u64, name: &str) -> Value {
    json!({
        "is_anonymous": false, "user_id": id, "username": name, "is_verified": false,
        "profile_picture": format!("https://files.kick.com/{id}.webp"),
        "channel_slug": name, "identity": null
    })
}

fn compact_user(id: u64, name: &str) -> Value {
    json!({ "user_id": id, "username": name, "is_verified": true, "profile_picture": "", "channel_slug": name })
}

fn parse(event_type: &EventType, body: &Value) -> KickEvent {
    let bytes = serde_json::to_vec(body).unwrap();
    KickEvent::from_parts(event_type, "1", &bytes).unwrap_or_else(|err| panic!("{err}"))
}

fn chat(overrides: &Value) -> Box<ChatMessage> {
    let mut body = json!({
        "message_id": "bb9832e4-e865-48f4-9c6c-2a3b4c5d6e7f",
        "broadcaster": full_user(1, "streamer"),
        "sender": full_user(2, "viewer"),
        "content": "hello",
    });
    for (key, value) in overrides.as_object().unwrap() {
        body[key] = value.clone();
    }
    match parse(&EventType::ChatMessageSent, &body) {
        KickEvent::ChatMessageSent(chat) => chat,
        other => panic!("{other:?}"),
    }
}

#[test]
fn metadata_category_with_a_capital_c() {
    let body = json!({
        "broadcaster": full_user(1, "streamer"),
        "metadata": { "title": "t", "language": "en", "has_mature_content": false,
                      "Category": { "id": 15, "name": "Just Chatting", "thumbnail": "https://x/15.webp" } }
    });
    let KickEvent::LivestreamMetadataUpdated(meta) =
        parse(&EventType::LivestreamMetadataUpdated, &body)
    else {
        panic!()
    };
    let meta: Box<LivestreamMetadata> = meta;
    assert_eq!(meta.metadata.category.name, "Just Chatting");
    assert_eq!(meta.metadata.category.id, 15);
}

#[test]
fn emotes_null_or_absent() {
    assert_eq!(chat(&json!({ "emotes": null })).emotes, None);
    assert_eq!(chat(&json!({})).emotes, None);
    let with =
        chat(&json!({ "emotes": [{ "emote_id": "37226", "positions": [{ "s": 0, "e": 4 }] }] }));
    assert_eq!(with.emotes.unwrap()[0].positions[0].e, 4);
}

#[test]
fn is_verified_null() {
    let mut broadcaster = full_user(1, "streamer");
    broadcaster["is_verified"] = Value::Null;
    let chat = chat(&json!({ "broadcaster": broadcaster }));
    assert_eq!(chat.broadcaster.is_verified, None);
}

#[test]
fn replies_to_null_or_absent() {
    assert!(chat(&json!({ "replies_to": null })).replies_to.is_none());
    assert!(chat(&json!({})).replies_to.is_none());
    let reply = chat(
        &json!({ "replies_to": { "message_id": "p", "content": "parent", "sender": full_user(3, "op") } }),
    );
    assert_eq!(reply.replies_to.unwrap().sender.user_id.get(), 3);
}

#[test]
fn empty_profile_picture_is_no_avatar() {
    let mut sender = full_user(2, "viewer");
    sender["profile_picture"] = json!("");
    let chat = chat(&json!({ "sender": sender }));
    assert_eq!(chat.sender.profile_picture.as_deref(), Some(""));
    assert_eq!(chat.sender.avatar_url(), None);
}

#[test]
fn compact_user_shape_parses_and_stays_compact() {
    let body = json!({
        "broadcaster": compact_user(1, "streamer"),
        "sender": compact_user(2, "giver"),
        "gift": { "amount": 100, "name": "Full Send", "type": "BASIC", "tier": "BASIC", "message": "" },
        "created_at": "2025-10-20T04:00:08.634Z"
    });
    let event = parse(&EventType::KicksGifted, &body);
    let KickEvent::KicksGifted(kicks) = &event else {
        panic!()
    };
    let kicks: &KicksGifted = kicks;
    assert_eq!(kicks.sender.is_anonymous, None);
    assert!(!kicks.sender.is_full_shape());
    assert_eq!(
        kicks.gift.pinned_time_seconds, None,
        "older deliveries lack pinned_time_seconds"
    );
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        body,
        "no is_anonymous or identity invented"
    );
}

fn gifts(gifter: Option<Value>) -> Box<SubscriptionGifts> {
    let mut body = json!({
        "broadcaster": full_user(1, "streamer"),
        "giftees": [full_user(5, "lucky")],
        "created_at": "2026-02-20T15:03:20.191347293Z"
    });
    if let Some(gifter) = gifter {
        body["gifter"] = gifter;
    }
    let KickEvent::ChannelSubscriptionGifts(gifts) =
        parse(&EventType::ChannelSubscriptionGifts, &body)
    else {
        panic!()
    };
    gifts
}

#[test]
fn anonymous_gifter_with_null_fields() {
    let anonymous = json!({
        "is_anonymous": true, "user_id": null, "username": null, "is_verified": null,
        "profile_picture": null, "channel_slug": null, "identity": null
    });
    let parsed = gifts(Some(anonymous.clone()));
    assert_eq!(parsed.gifter, Gifter::Anonymous);
    assert_eq!(parsed.expires_at, None, "older deliveries lack expires_at");
    assert_eq!(serde_json::to_value(&parsed.gifter).unwrap(), anonymous);
}

#[test]
fn gifter_null_or_absent_is_anonymous() {
    assert_eq!(gifts(Some(Value::Null)).gifter, Gifter::Anonymous);
    assert_eq!(gifts(None).gifter, Gifter::Anonymous);
}

#[test]
fn anonymous_flag_false_with_details_is_a_known_gifter() {
    let parsed = gifts(Some(full_user(9, "generous")));
    assert_eq!(parsed.gifter.user().unwrap().username, "generous");
}

#[test]
fn timestamps_from_seconds_to_nanoseconds_and_offsets() {
    let cases = [
        ("2025-01-14T16:08:06Z", 1_736_870_886_000_000_000_i128),
        ("2025-01-14T16:08:06.6Z", 1_736_870_886_600_000_000),
        ("2025-10-20T04:00:08.634Z", 1_760_932_808_634_000_000),
        ("2026-02-20T15:03:20.191347293Z", 1_771_599_800_191_347_293),
        ("2025-01-01T11:00:00+11:00", 1_735_689_600_000_000_000),
        ("2025-01-01T00:00:00.5-05:30", 1_735_709_400_500_000_000),
    ];
    for (text, nanos) in cases {
        let chat = chat(&json!({ "created_at": text }));
        let created = chat.created_at.unwrap();
        assert_eq!(created.unix_nanos(), nanos, "{text}");
        assert_eq!(created.as_str(), text, "the original text is kept");
    }
}

#[test]
fn a_bad_timestamp_names_the_field() {
    let body = json!({
        "broadcaster": full_user(1, "s"), "subscriber": full_user(2, "v"), "duration": 1,
        "created_at": "last tuesday"
    });
    let err = KickEvent::from_parts(
        &EventType::ChannelSubscriptionNew,
        "1",
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Schema);
    assert_eq!(err.field(), Some("created_at"));
    assert!(err.to_string().contains("RFC 3339"), "{err}");
}

#[test]
fn badges_with_and_without_count() {
    let mut sender = full_user(2, "viewer");
    sender["identity"] = json!({ "username_color": "#FF5733", "badges": [
        { "text": "Broadcaster", "type": "broadcaster" },
        { "text": "Subscriber", "type": "subscriber", "count": 12 }
    ]});
    let chat = chat(&json!({ "sender": sender }));
    let badges = &chat.sender.identity.as_ref().unwrap().badges;
    assert_eq!(
        (badges[0].kind.as_str(), badges[0].count),
        ("broadcaster", None)
    );
    assert_eq!(
        (badges[1].kind.as_str(), badges[1].count),
        ("subscriber", Some(12))
    );
}

#[test]
fn fields_older_deliveries_lack() {
    // created_at (chat), identity (sender), expires_at (subs), pinned_time_seconds (kicks).
    let mut sender = full_user(2, "viewer");
    sender.as_object_mut().unwrap().remove("identity");
    let chat = chat(&json!({ "sender": sender }));
    assert!(chat.created_at.is_none());
    assert!(chat.sender.identity.is_none());
    let body = json!({ "broadcaster": full_user(1, "s"), "subscriber": full_user(2, "v"), "duration": 3, "created_at": "2025-01-14T16:08:06Z" });
    let KickEvent::ChannelSubscriptionRenewal(sub) =
        parse(&EventType::ChannelSubscriptionRenewal, &body)
    else {
        panic!()
    };
    assert_eq!((sub.duration, sub.expires_at), (3, None));
}

#[test]
fn extra_fields_kick_adds_later_are_ignored() {
    let mut sender = full_user(2, "viewer");
    sender["pronouns"] = json!("they/them");
    let chat = chat(&json!({ "sender": sender, "is_pinned": true, "thread": { "depth": 2 } }));
    assert_eq!(chat.sender.username, "viewer");
}

#[test]
fn a_body_that_does_not_fit_names_the_field() {
    let mut sender = full_user(2, "viewer");
    sender["user_id"] = json!("not a number");
    let body = json!({ "message_id": "m", "broadcaster": full_user(1, "s"), "sender": sender, "content": "x" });
    let err = KickEvent::from_parts(
        &EventType::ChatMessageSent,
        "1",
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Schema);
    assert_eq!(err.field(), Some("sender.user_id"));
    assert!(
        err.to_string()
            .starts_with("chat.message.sent v1: field `sender.user_id`"),
        "{err}"
    );

    let missing = json!({ "broadcaster": full_user(1, "s") });
    let err = KickEvent::from_parts(
        &EventType::ChannelFollowed,
        "1",
        &serde_json::to_vec(&missing).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("missing field `follower`"),
        "{err}"
    );

    let giftees = json!({ "broadcaster": full_user(1, "s"), "giftees": [full_user(2, "a"), { "user_id": 3 }], "created_at": "2025-01-14T16:08:06Z" });
    let err = KickEvent::from_parts(
        &EventType::ChannelSubscriptionGifts,
        "1",
        &serde_json::to_vec(&giftees).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("giftees[1]"), "{err}");
}

#[test]
fn a_body_that_is_not_json_is_an_invalid_json_error() {
    for body in [&b""[..], b"{", b"not json", b"\xff\xfe"] {
        let err = KickEvent::from_parts(&EventType::ChatMessageSent, "1", body).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::InvalidJson, "{body:?}");
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }
}
