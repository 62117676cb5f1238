//! Every official payload, signed like Kick signs it, verifies on every backend and parses into
//! its typed event; any tampering is caught before parsing.

use std::path::Path;

use kick_models::{EventType, KickEvent, WebhookHeaders};
use kick_verify::{Backend, PublicKey, SignedMessage, VerifyError};
use relay_tests::{KickSigner, TEST_PUBLIC_PEM};

/// Kick's official example payloads, one per known event type, in the docs' order.
pub(crate) fn official_payloads() -> Vec<(EventType, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kick/payloads");
    EventType::KNOWN
        .iter()
        .map(|event_type| {
            let path = dir.join(format!("{event_type}.v1.json"));
            (
                event_type.clone(),
                std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display())),
            )
        })
        .collect()
}

/// What the relay's ingest does with one request, minus storage.
fn ingest(key: &PublicKey, headers: &[(&str, String)], body: &[u8]) -> Result<KickEvent, String> {
    let parsed = WebhookHeaders::from_pairs(headers.iter().map(|(n, v)| (*n, v.as_bytes())))
        .map_err(|err| err.to_string())?;
    key.verify(&SignedMessage {
        message_id: &parsed.meta.message_id,
        timestamp: parsed.meta.timestamp.as_str(),
        body,
        signature_b64: &parsed.signature,
    })
    .map_err(|err| err.to_string())?;
    KickEvent::from_parts(&parsed.meta.event_type, &parsed.meta.version, body)
        .map_err(|err| err.to_string())
}

#[test]
fn all_ten_events_verify_and_parse_on_every_backend() {
    let signer = KickSigner::test_key();
    let key = PublicKey::from_pem(TEST_PUBLIC_PEM).unwrap();
    assert!(
        Backend::ALL.len() >= 2,
        "relay-tests enables the fast backend: {:?}",
        Backend::ALL
    );
    for (i, (event_type, body)) in official_payloads().into_iter().enumerate() {
        let message_id = format!("01JMND5PS7XQ0V3F9E2B4C6D{i:02}");
        let headers = signer.headers(
            &message_id,
            "2025-02-21T23:23:36.123Z",
            event_type.as_str(),
            &body,
        );
        for backend in Backend::ALL {
            let event = ingest(&key.clone().with_backend(*backend), &headers, &body)
                .unwrap_or_else(|err| panic!("{event_type} on {backend:?}: {err}"));
            assert_eq!(event.event_type(), event_type);
            assert!(!matches!(event, KickEvent::Unknown(_)), "{event_type}");
        }
    }
}

#[test]
fn tampering_is_caught_before_parsing() {
    let signer = KickSigner::test_key();
    let key = PublicKey::from_pem(TEST_PUBLIC_PEM).unwrap();
    let (event_type, body) = official_payloads().remove(0);
    let headers = signer.headers(
        "01JMND5PS7XQ0V3F9E2B4C6D8A",
        "2025-02-21T23:23:36Z",
        event_type.as_str(),
        &body,
    );

    let mut altered = body.clone();
    let at = altered.iter().position(|b| *b == b'H').unwrap();
    altered[at] = b'J';
    assert_eq!(
        ingest(&key, &headers, &altered).unwrap_err(),
        VerifyError::BadSignature.to_string()
    );

    // Kick does not sign the type header: a relabelled body still verifies, so parsing is what
    // must refuse it, naming the type it was read as.
    let mut relabelled = headers.clone();
    relabelled[4].1 = "channel.followed".into();
    let err = ingest(&key, &relabelled, &body).unwrap_err();
    assert!(err.contains("channel.followed v1"), "{err}");

    let kick = PublicKey::kick().unwrap();
    assert_eq!(ingest(&kick, &headers, &body).unwrap_err(), "bad signature");
}

#[test]
fn a_missing_header_is_named() {
    let signer = KickSigner::test_key();
    let key = PublicKey::from_pem(TEST_PUBLIC_PEM).unwrap();
    let mut headers = signer.headers("01J", "2025-02-21T23:23:36Z", "kicks.gifted", b"{}");
    headers.remove(2);
    assert_eq!(
        ingest(&key, &headers, b"{}").unwrap_err(),
        "missing header Kick-Event-Signature"
    );
}

/// kick-verify names the three headers it reads itself (it may not use kick-models); they are
/// the ones kick-models parses.
#[test]
fn both_crates_name_the_signed_headers_alike() {
    use kick_models::header as models;
    use kick_verify::header as verify;
    assert_eq!(verify::MESSAGE_ID, models::MESSAGE_ID);
    assert_eq!(verify::MESSAGE_TIMESTAMP, models::MESSAGE_TIMESTAMP);
    assert_eq!(verify::SIGNATURE, models::SIGNATURE);
}
