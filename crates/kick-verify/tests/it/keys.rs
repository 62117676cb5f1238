//! Parsing public keys: both PEM forms, Kick's key, and every refusal.

use kick_verify::{KICK_PUBLIC_KEY_PEM, KICK_PUBLIC_KEY_SPKI_SHA256, KeyError, PublicKey};

use crate::support::{
    OTHER_PUBLIC_SPKI_PEM, SMALL_PUBLIC_SPKI_PEM, TEST_PRIVATE_PEM, TEST_PUBLIC_PKCS1_PEM,
    TEST_PUBLIC_SPKI_PEM,
};

#[test]
fn kicks_published_key_parses_with_the_documented_fingerprint() {
    let key = PublicKey::kick().unwrap();
    assert_eq!(key.bits(), 2048);
    assert_eq!(key.fingerprint_hex(), KICK_PUBLIC_KEY_SPKI_SHA256);
    assert_eq!(
        KICK_PUBLIC_KEY_SPKI_SHA256,
        "407899e1bb8e86c10ecc032cd8c5d02f1180e8b3c58686ddfe1fb541d8a646aa"
    );
}

#[test]
fn debug_shows_the_fingerprint_and_not_the_modulus() {
    let key = PublicKey::kick().unwrap();
    let debug = format!("{key:?}");
    assert!(debug.contains(KICK_PUBLIC_KEY_SPKI_SHA256), "{debug}");
    assert!(debug.contains("bits: 2048"), "{debug}");
    assert!(!debug.contains("MIIB"), "{debug}");
}

#[test]
fn spki_and_pkcs1_forms_give_the_same_key() {
    let spki = PublicKey::from_pem(TEST_PUBLIC_SPKI_PEM).unwrap();
    let pkcs1 = PublicKey::from_pem(TEST_PUBLIC_PKCS1_PEM).unwrap();
    assert_eq!(spki.fingerprint(), pkcs1.fingerprint());
    let other = PublicKey::from_pem(OTHER_PUBLIC_SPKI_PEM).unwrap();
    assert_ne!(spki.fingerprint(), other.fingerprint());
}

#[test]
fn crlf_and_surrounding_whitespace_are_accepted() {
    let crlf = format!("\n  {}\n\n", KICK_PUBLIC_KEY_PEM.replace('\n', "\r\n"));
    let key = PublicKey::from_pem(&crlf).unwrap();
    assert_eq!(key.fingerprint_hex(), KICK_PUBLIC_KEY_SPKI_SHA256);
}

#[test]
fn a_private_key_is_refused_with_advice() {
    let err = PublicKey::from_pem(TEST_PRIVATE_PEM).unwrap_err();
    assert_eq!(err, KeyError::PrivateKey);
    assert!(err.to_string().contains("-pubout"), "{err}");
}

#[test]
fn text_that_is_not_pem_is_refused() {
    for text in [
        "",
        "hello",
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
    ] {
        assert_eq!(
            PublicKey::from_pem(text).unwrap_err(),
            KeyError::NotPem,
            "{text:?}"
        );
    }
    assert!(KeyError::NotPem.to_string().contains("BEGIN PUBLIC KEY"));
}

#[test]
fn a_damaged_pem_body_is_an_encoding_error() {
    let damaged = KICK_PUBLIC_KEY_PEM.replace("MIIBIjAN", "MIIBIjAA");
    assert_eq!(
        PublicKey::from_pem(&damaged).unwrap_err(),
        KeyError::InvalidEncoding
    );
    let truncated: String = KICK_PUBLIC_KEY_PEM
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        PublicKey::from_pem(&truncated).unwrap_err(),
        KeyError::InvalidEncoding
    );
}

#[test]
fn a_1024_bit_key_is_too_small() {
    let err = PublicKey::from_pem(SMALL_PUBLIC_SPKI_PEM).unwrap_err();
    assert_eq!(err, KeyError::TooSmall { bits: 1024 });
    assert!(err.to_string().contains("at least 2048"), "{err}");
}
