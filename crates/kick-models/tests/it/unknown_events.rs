//! Unknown types and versions are data, kept byte for byte.

use kick_models::{EventType, KickEvent, ParseErrorKind};

#[test]
fn an_unknown_type_round_trips_byte_identical() {
    let body = br#"{"raid":{"from":"a","viewers":120},"note":"\u00e9 kept as written",  "n":1.50}"#;
    let event_type = EventType::from("channel.raid.started");
    let event = KickEvent::from_parts(&event_type, "1", body).unwrap();
    let KickEvent::Unknown(unknown) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(unknown.body.get().as_bytes(), body);
    assert_eq!(unknown.event_type.as_str(), "channel.raid.started");
    assert_eq!(serde_json::to_vec(&event).unwrap(), body);
    assert_eq!(event.event_type(), event_type);
    assert!(event.broadcaster().is_none());
}

#[test]
fn a_known_type_with_a_new_version_is_unknown_not_an_error() {
    let body = br#"{"shape":"from the future"}"#;
    for version in ["2", "1.0", "", "v1"] {
        let event = KickEvent::from_parts(&EventType::ChatMessageSent, version, body).unwrap();
        let KickEvent::Unknown(unknown) = event else {
            panic!("{version}")
        };
        assert_eq!(unknown.event_type, EventType::ChatMessageSent);
        assert_eq!(unknown.version, version);
        assert_eq!(unknown.body.get().as_bytes(), body);
    }
}

#[test]
fn any_json_value_is_kept_for_unknown_events() {
    for body in [&b"[1,2,3]"[..], b"null", b"\"text\"", b"42"] {
        let event = KickEvent::from_parts(&EventType::from("x.y"), "9", body).unwrap();
        assert_eq!(serde_json::to_vec(&event).unwrap(), body);
    }
}

#[test]
fn an_unknown_event_that_is_not_json_is_an_error() {
    let err = KickEvent::from_parts(&EventType::from("x.y"), "1", b"<xml/>").unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::InvalidJson);
    assert!(err.to_string().starts_with("x.y v1:"), "{err}");
}
