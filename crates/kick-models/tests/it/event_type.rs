//! The open event-type enum.

use kick_models::EventType;

#[test]
fn every_known_name_maps_to_its_variant_and_back() {
    for known in EventType::KNOWN {
        let name = known.as_str().to_owned();
        assert_eq!(EventType::from(name.as_str()), known);
        assert_eq!(String::from(EventType::from(name.clone())), name);
        let json = serde_json::to_string(&known).unwrap();
        assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), known);
        assert_eq!(known.supported_version(), Some("1"));
    }
}

#[test]
fn unknown_names_round_trip_exactly() {
    for name in [
        "channel.raid.started",
        "Chat.Message.Sent",
        "",
        "channel.moderation.user_banned",
    ] {
        let parsed = EventType::from(name);
        assert!(parsed.is_unknown(), "{name}");
        assert_eq!(parsed.as_str(), name);
        assert_eq!(parsed.to_string(), name);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            serde_json::to_string(name).unwrap()
        );
        assert_eq!(parsed.supported_version(), None);
    }
}
