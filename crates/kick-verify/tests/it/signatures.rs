//! Verification: known answers and one test per tampering, on every backend.

use kick_verify::{SignedMessage, VerifyError};

use crate::support::{
    KAT, OTHER_PUBLIC_SPKI_PEM, TEST_PUBLIC_PKCS1_PEM, keys_for, sign, test_keys,
};

#[test]
fn known_answer_vectors_verify_on_every_backend() {
    for key in test_keys()
        .into_iter()
        .chain(keys_for(TEST_PUBLIC_PKCS1_PEM))
    {
        for vector in &KAT {
            assert_eq!(key.verify(&vector.message()), Ok(()), "{:?}", key.backend());
        }
    }
}

#[test]
fn the_rust_signer_agrees_with_openssl() {
    // PKCS#1 v1.5 is deterministic: our test signer must reproduce openssl's bytes.
    for vector in &KAT {
        assert_eq!(
            sign(vector.message_id, vector.timestamp, vector.body),
            vector.signature
        );
    }
}

/// Asserts that `message` fails with `expected` on every backend.
fn assert_rejected(message: &SignedMessage<'_>, expected: VerifyError) {
    for key in test_keys() {
        assert_eq!(
            key.verify(message),
            Err(expected),
            "{:?} {message:?}",
            key.backend()
        );
    }
}

#[test]
fn a_changed_body_fails() {
    let mut body = KAT[0].body.to_vec();
    body[10] ^= 1;
    assert_rejected(
        &SignedMessage {
            body: &body,
            ..KAT[0].message()
        },
        VerifyError::BadSignature,
    );
    let mut longer = KAT[0].body.to_vec();
    longer.push(b' ');
    assert_rejected(
        &SignedMessage {
            body: &longer,
            ..KAT[0].message()
        },
        VerifyError::BadSignature,
    );
}

#[test]
fn a_changed_message_id_fails() {
    let message = SignedMessage {
        message_id: "01JMND5PS7XQ0V3F9E2B4C6D8X",
        ..KAT[0].message()
    };
    assert_rejected(&message, VerifyError::BadSignature);
}

#[test]
fn a_changed_timestamp_fails() {
    let message = SignedMessage {
        timestamp: "2025-02-21T23:23:37Z",
        ..KAT[0].message()
    };
    assert_rejected(&message, VerifyError::BadSignature);
}

#[test]
fn moving_the_separator_fails() {
    // "a.b" + "." + "c" must not equal "a" + "." + "b.c": the parts are fixed by position.
    let signature = sign("id.part", "2025-02-21T23:23:36Z", b"{}");
    let shifted = SignedMessage {
        message_id: "id",
        timestamp: "part.2025-02-21T23:23:36Z",
        body: b"{}",
        signature_b64: &signature,
    };
    // Same bytes overall, so the signature matches: the scheme itself cannot tell them apart,
    // which is why the header values must be used verbatim. Document that with a test.
    for key in test_keys() {
        assert_eq!(key.verify(&shifted), Ok(()));
    }
}

#[test]
fn a_truncated_signature_is_malformed() {
    let signature = &KAT[0].signature[..KAT[0].signature.len() - 4];
    assert_rejected(
        &SignedMessage {
            signature_b64: signature,
            ..KAT[0].message()
        },
        VerifyError::MalformedSignature,
    );
}

#[test]
fn a_non_base64_signature_is_malformed() {
    for signature in [
        "",
        "!!!!",
        "not base64 at all",
        "Zm9v\u{e9}",
        &"A".repeat(100_000),
    ] {
        assert_rejected(
            &SignedMessage {
                signature_b64: signature,
                ..KAT[0].message()
            },
            VerifyError::MalformedSignature,
        );
    }
}

#[test]
fn url_safe_base64_is_not_standard_base64() {
    let url_safe = KAT[0].signature.replace('+', "-").replace('/', "_");
    if url_safe != KAT[0].signature {
        assert_rejected(
            &SignedMessage {
                signature_b64: &url_safe,
                ..KAT[0].message()
            },
            VerifyError::MalformedSignature,
        );
    }
}

#[test]
fn a_signature_of_the_wrong_length_is_malformed() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    for len in [1, 255, 257, 512] {
        let signature = engine.encode(vec![7_u8; len]);
        assert_rejected(
            &SignedMessage {
                signature_b64: &signature,
                ..KAT[0].message()
            },
            VerifyError::MalformedSignature,
        );
    }
}

#[test]
fn a_right_length_garbage_signature_is_bad() {
    use base64::Engine as _;
    let signature = base64::engine::general_purpose::STANDARD.encode([0xA5_u8; 256]);
    assert_rejected(
        &SignedMessage {
            signature_b64: &signature,
            ..KAT[0].message()
        },
        VerifyError::BadSignature,
    );
}

#[test]
fn missing_padding_is_accepted() {
    let unpadded = KAT[0].signature.trim_end_matches('=');
    assert_ne!(
        unpadded, KAT[0].signature,
        "the vector should have padding to strip"
    );
    for key in test_keys() {
        assert_eq!(
            key.verify(&SignedMessage {
                signature_b64: unpadded,
                ..KAT[0].message()
            }),
            Ok(())
        );
    }
}

#[test]
fn another_key_does_not_verify() {
    for key in keys_for(OTHER_PUBLIC_SPKI_PEM) {
        for vector in &KAT {
            assert_eq!(
                key.verify(&vector.message()),
                Err(VerifyError::BadSignature)
            );
        }
    }
    // Kick's real key must not accept our test signatures either.
    let kick = kick_verify::PublicKey::kick().unwrap();
    assert_eq!(
        kick.verify(&KAT[0].message()),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn the_bad_signature_error_says_nothing_more() {
    assert_eq!(VerifyError::BadSignature.to_string(), "bad signature");
}
