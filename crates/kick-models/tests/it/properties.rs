//! Property tests: arbitrary input never panics; chat tokens always rebuild the content.

use kick_models::{ChatToken, ChatTokens, EventType, KickEvent, WebhookHeaders};
use proptest::prelude::*;

fn any_event_type() -> impl Strategy<Value = EventType> {
    prop_oneof![
        (0..EventType::KNOWN.len()).prop_map(|i| EventType::KNOWN[i].clone()),
        ".{0,30}".prop_map(EventType::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_parsing_never_panics(pairs in proptest::collection::vec((".{0,40}", proptest::collection::vec(any::<u8>(), 0..80)), 0..12)) {
        let _ = WebhookHeaders::from_pairs(pairs);
    }

    #[test]
    fn payload_parsing_never_panics(event_type in any_event_type(), version in "[0-9]{0,2}", body in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(event) = KickEvent::from_parts(&event_type, &version, &body) {
            prop_assert!(serde_json::to_vec(&event).is_ok());
        }
    }

    #[test]
    fn json_shaped_bodies_never_panic(event_type in any_event_type(), value in any_json()) {
        let body = serde_json::to_vec(&value).unwrap();
        let _ = KickEvent::from_parts(&event_type, "1", &body);
    }

    #[test]
    fn chat_tokens_rebuild_any_content(content in "(.|\\[emote:[0-9]{1,3}:[A-Za-z]{1,5}\\]){0,20}") {
        let rebuilt: String = ChatTokens::new(&content)
            .map(|token| match token {
                ChatToken::Text(text) => text.to_owned(),
                ChatToken::Emote { id, name } => format!("[emote:{id}:{name}]"),
            })
            .collect();
        prop_assert_eq!(rebuilt, content);
    }
}

/// Small JSON values with the keys Kick's payloads use, so the parser goes deep.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let keys = prop_oneof![
            Just("broadcaster".to_owned()),
            Just("sender".to_owned()),
            Just("user_id".to_owned()),
            Just("username".to_owned()),
            Just("channel_slug".to_owned()),
            Just("content".to_owned()),
            Just("message_id".to_owned()),
            Just("identity".to_owned()),
            Just("created_at".to_owned()),
            Just("gifter".to_owned()),
            Just("metadata".to_owned()),
            "[a-z_]{1,8}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(keys, inner, 0..6)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}
