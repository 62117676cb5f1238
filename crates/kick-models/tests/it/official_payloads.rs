//! Every example payload Kick publishes parses and re-serialises to equal JSON.

use std::path::{Path, PathBuf};

use kick_models::{EventType, KickEvent};
use serde_json::Value;

fn payload_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kick/payloads")
}

/// `chat.message.sent.v1.json` and `variants/livestream.status.updated.v1.ended.json`.
fn payload_files() -> Vec<PathBuf> {
    let dir = payload_dir();
    let mut files = Vec::new();
    for dir in [dir.clone(), dir.join("variants")] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| {
            panic!(
                "Kick's example payloads are expected in {} (fixtures/kick/payloads in the repository): {err}",
                dir.display()
            )
        });
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn event_type_of(path: &Path) -> EventType {
    let name = path.file_name().unwrap().to_str().unwrap();
    let (event_type, _) = name
        .split_once(".v1.")
        .expect("files are named <type>.v1[.variant].json");
    EventType::from(event_type)
}

#[test]
fn every_official_payload_round_trips() {
    let files = payload_files();
    assert_eq!(
        files.len(),
        11,
        "ten events plus the stream-ended variant: {files:?}"
    );
    let mut seen = Vec::new();
    for path in &files {
        let body = std::fs::read(path).unwrap();
        let event_type = event_type_of(path);
        assert!(!event_type.is_unknown(), "{}", path.display());
        let event = KickEvent::from_parts(&event_type, "1", &body)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        assert_eq!(event.event_type(), event_type);
        assert!(
            !matches!(event, KickEvent::Unknown(_)),
            "{}",
            path.display()
        );
        let original: Value = serde_json::from_slice(&body).unwrap();
        let again = serde_json::to_value(&event).unwrap();
        assert_eq!(again, original, "{} did not round-trip", path.display());
        seen.push(event_type);
    }
    for known in EventType::KNOWN {
        assert!(seen.contains(&known), "no official payload for {known}");
    }
}

#[test]
fn official_payload_values_land_in_the_right_fields() {
    let body = std::fs::read(payload_dir().join("chat.message.sent.v1.json")).unwrap();
    let KickEvent::ChatMessageSent(chat) =
        KickEvent::from_parts(&EventType::ChatMessageSent, "1", &body).unwrap()
    else {
        panic!("not a chat message");
    };
    assert_eq!(chat.sender.user_id.get(), 987_654_321);
    let identity = chat.sender.identity.as_ref().unwrap();
    assert_eq!(identity.username_color.as_deref(), Some("#FF5733"));
    assert_eq!(identity.badges[0].count, None);
    assert_eq!(identity.badges[1].count, Some(5));
    assert_eq!(
        chat.replies_to.as_ref().unwrap().sender.username,
        "parent_sender_name"
    );
    assert_eq!(chat.plain_text(), "Hello HYPERCLAP HYPERCLAP KEKW");
    assert_eq!(
        chat.created_at.as_ref().unwrap().unix_seconds(),
        1_736_870_886
    );

    let body = std::fs::read(payload_dir().join("moderation.banned.v1.json")).unwrap();
    let KickEvent::ModerationBanned(ban) =
        KickEvent::from_parts(&EventType::ModerationBanned, "1", &body).unwrap()
    else {
        panic!("not a ban");
    };
    assert!(!ban.is_permanent());
    assert_eq!(ban.timeout_secs(), Some(121));
}
