//! Kick-shaped sample events for `kick-relay send-test`, one per event type (written for this
//! tool; the shapes follow Kick's documented payloads).

use kick_models::EventType;
use serde_json::{Value, json};

fn user(id: u64, name: &str) -> Value {
    json!({ "is_anonymous": false, "user_id": id, "username": name, "is_verified": false,
            "profile_picture": "", "channel_slug": name.to_lowercase(), "identity": null })
}

fn compact(id: u64, name: &str) -> Value {
    json!({ "user_id": id, "username": name, "is_verified": false, "profile_picture": "", "channel_slug": name.to_lowercase() })
}

/// A sample body for `event_type`, numbered `n` so the sends of one run differ; `unique` (a
/// fresh UUID per send) is the chat message id and the redemption id, so runs differ too (a
/// chat message id Kick sent before is a duplicate).
pub fn body(event_type: &EventType, n: u64, unique: &str, now_rfc3339: &str) -> Option<Value> {
    let streamer = user(4_377_088, "TestStreamer");
    let viewer = |i: u64| user(100_000 + i, &format!("viewer{i}"));
    Some(match event_type {
        EventType::ChatMessageSent => json!({
            "message_id": unique,
            "replies_to": null,
            "broadcaster": streamer,
            "sender": { "is_anonymous": false, "user_id": 100_000 + n, "username": format!("viewer{n}"), "is_verified": false,
                        "profile_picture": "", "channel_slug": format!("viewer{n}"),
                        "identity": { "username_color": "#1475E1", "badges": [{ "text": "Subscriber", "type": "subscriber", "count": 3 }] } },
            "content": format!("test message {n} [emote:37226:KEKW]"),
            "emotes": null,
            "created_at": now_rfc3339,
        }),
        EventType::ChannelFollowed => json!({ "broadcaster": streamer, "follower": viewer(n) }),
        EventType::ChannelSubscriptionNew | EventType::ChannelSubscriptionRenewal => json!({
            "broadcaster": streamer, "subscriber": viewer(n), "duration": 1 + n % 12,
            "created_at": now_rfc3339, "expires_at": now_rfc3339,
        }),
        EventType::ChannelSubscriptionGifts => json!({
            "broadcaster": streamer, "gifter": viewer(n), "giftees": [viewer(n + 1), viewer(n + 2)],
            "created_at": now_rfc3339, "expires_at": now_rfc3339,
        }),
        EventType::ChannelRewardRedemptionUpdated => json!({
            "id": unique, "user_input": "hello", "status": "pending", "redeemed_at": now_rfc3339,
            "reward": { "id": "01TESTREWARD0000000000000", "title": "Hydrate", "cost": 100, "description": "Drink water" },
            "redeemer": compact(100_000 + n, &format!("viewer{n}")), "broadcaster": compact(4_377_088, "TestStreamer"),
        }),
        EventType::LivestreamStatusUpdated => json!({
            "broadcaster": streamer, "is_live": n.is_multiple_of(2), "title": format!("Test stream {n}"),
            "started_at": now_rfc3339, "ended_at": if n.is_multiple_of(2) { Value::Null } else { json!(now_rfc3339) },
        }),
        EventType::LivestreamMetadataUpdated => json!({
            "broadcaster": streamer,
            "metadata": { "title": format!("Test stream {n}"), "language": "en", "has_mature_content": false,
                          "category": { "id": 15, "name": "Just Chatting", "thumbnail": "" } },
        }),
        EventType::ModerationBanned => json!({
            "broadcaster": streamer, "moderator": viewer(1), "banned_user": viewer(n + 10),
            "metadata": { "reason": "test", "created_at": now_rfc3339, "expires_at": null },
        }),
        EventType::KicksGifted => json!({
            "broadcaster": compact(4_377_088, "TestStreamer"), "sender": compact(100_000 + n, &format!("viewer{n}")),
            "gift": { "amount": 100, "name": "Full Send", "type": "BASIC", "tier": "BASIC", "message": "gg", "pinned_time_seconds": 0 },
            "created_at": now_rfc3339,
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use kick_models::{EventType, KickEvent};

    /// Every event kick-models' table lists has a sample that parses as that event: a new
    /// entry in the table fails here until `send-test` can send it.
    #[test]
    fn every_known_event_has_a_sample_that_parses() {
        for event_type in EventType::KNOWN {
            let body = super::body(&event_type, 1, "01TESTSAMPLE", "2026-12-03T12:00:00Z")
                .unwrap_or_else(|| panic!("no sample for {event_type}"));
            let event = KickEvent::from_parts(
                &event_type,
                event_type.supported_version().unwrap_or("1"),
                &serde_json::to_vec(&body).unwrap(),
            )
            .unwrap_or_else(|err| panic!("the {event_type} sample does not parse: {err}"));
            assert_eq!(event.event_type(), event_type);
            assert!(!matches!(event, KickEvent::Unknown(_)), "{event_type}");
        }
    }
}
