//! The `Kick-Event-*` headers, case-insensitive, with clear errors.

use kick_models::{EventType, HeaderError, WebhookHeaders, header};

fn valid() -> Vec<(String, Vec<u8>)> {
    [
        (header::MESSAGE_ID, "01JMND5PS7XQ0V3F9E2B4C6D8A"),
        (header::SUBSCRIPTION_ID, "01JMND5PS7XQ0V3F9E2B4C6D8B"),
        (header::SIGNATURE, "c2lnbmF0dXJl=="),
        (header::MESSAGE_TIMESTAMP, "2025-02-21T23:23:36.5+01:00"),
        (header::EVENT_TYPE, "kicks.gifted"),
        (header::EVENT_VERSION, "1"),
        ("User-Agent", "Go-http-client/1.1"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
    .collect()
}

fn without(name: &str) -> Vec<(String, Vec<u8>)> {
    valid().into_iter().filter(|(n, _)| n != name).collect()
}

fn with(name: &str, value: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut headers = without(name);
    headers.push((name.to_owned(), value.to_vec()));
    headers
}

#[test]
fn all_six_parse_in_any_case() {
    let lower: Vec<_> = valid()
        .into_iter()
        .map(|(n, v)| (n.to_lowercase(), v))
        .collect();
    let upper: Vec<_> = valid()
        .into_iter()
        .map(|(n, v)| (n.to_uppercase(), v))
        .collect();
    for headers in [valid(), lower, upper] {
        let parsed = WebhookHeaders::from_pairs(headers).unwrap();
        assert_eq!(parsed.meta.message_id, "01JMND5PS7XQ0V3F9E2B4C6D8A");
        assert_eq!(
            parsed.meta.subscription_id.as_deref(),
            Some("01JMND5PS7XQ0V3F9E2B4C6D8B")
        );
        assert_eq!(
            parsed.meta.timestamp.as_str(),
            "2025-02-21T23:23:36.5+01:00"
        );
        assert_eq!(parsed.meta.event_type, EventType::KicksGifted);
        assert_eq!(parsed.meta.version, "1");
        assert_eq!(parsed.signature, "c2lnbmF0dXJl==");
    }
}

#[test]
fn each_required_header_missing_is_named() {
    for name in [
        header::MESSAGE_ID,
        header::SIGNATURE,
        header::MESSAGE_TIMESTAMP,
        header::EVENT_TYPE,
        header::EVENT_VERSION,
    ] {
        let err = WebhookHeaders::from_pairs(without(name)).unwrap_err();
        assert_eq!(err, HeaderError::Missing(name));
        assert_eq!(err.to_string(), format!("missing header {name}"));
    }
}

#[test]
fn the_subscription_id_is_optional() {
    let parsed = WebhookHeaders::from_pairs(without(header::SUBSCRIPTION_ID)).unwrap();
    assert_eq!(parsed.meta.subscription_id, None);
}

#[test]
fn a_repeated_header_is_refused() {
    let mut headers = valid();
    headers.push(("KICK-EVENT-MESSAGE-ID".into(), b"01OTHER".to_vec()));
    assert_eq!(
        WebhookHeaders::from_pairs(headers).unwrap_err(),
        HeaderError::Duplicate(header::MESSAGE_ID)
    );
}

#[test]
fn unusable_values_are_malformed_with_a_reason() {
    let cases: [(&str, &[u8], &str); 6] = [
        (header::MESSAGE_ID, b"", "empty"),
        (header::MESSAGE_ID, b"has space", "visible ASCII"),
        (header::EVENT_TYPE, b"chat\0message", "visible ASCII"),
        (header::SIGNATURE, "sïg".as_bytes(), "visible ASCII"),
        (header::EVENT_VERSION, &[b'1'; 1025], "1024"),
        (header::MESSAGE_TIMESTAMP, b"yesterday", "RFC 3339"),
    ];
    for (name, value, reason) in cases {
        let err = WebhookHeaders::from_pairs(with(name, value)).unwrap_err();
        assert_eq!(err.header(), name);
        assert!(err.to_string().contains(reason), "{name}: {err}");
    }
}
