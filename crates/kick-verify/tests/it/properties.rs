//! Property tests: arbitrary input never panics and never verifies; real signatures always do.

use kick_verify::{PublicKey, SignedMessage, check_freshness};
use proptest::prelude::*;

use crate::support::{sign, test_keys};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_deliveries_are_rejected_without_panicking(
        message_id in ".{0,40}",
        timestamp in ".{0,40}",
        body in proptest::collection::vec(any::<u8>(), 0..512),
        signature in prop_oneof![".{0,400}", "[A-Za-z0-9+/]{340,344}={0,2}"],
    ) {
        for key in test_keys() {
            let message = SignedMessage { message_id: &message_id, timestamp: &timestamp, body: &body, signature_b64: &signature };
            prop_assert!(key.verify(&message).is_err());
        }
    }

    #[test]
    fn arbitrary_pem_text_never_panics(text in ".{0,600}") {
        let _ = PublicKey::from_pem(&text);
        let _ = PublicKey::from_pem(&format!("-----BEGIN PUBLIC KEY-----\n{text}\n-----END PUBLIC KEY-----"));
    }

    #[test]
    fn arbitrary_timestamps_never_panic(text in ".{0,64}", now in any::<i64>(), secs in any::<u64>()) {
        let _ = check_freshness(&text, now, std::time::Duration::from_secs(secs));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn signed_deliveries_verify_and_any_flipped_bit_does_not(
        message_id in "[0-9A-Z]{26}",
        body in proptest::collection::vec(any::<u8>(), 1..2048),
        flip in any::<prop::sample::Index>(),
    ) {
        let timestamp = "2025-02-21T23:23:36Z";
        let signature = sign(&message_id, timestamp, &body);
        let mut tampered = body.clone();
        let at = flip.index(tampered.len());
        tampered[at] ^= 0x01;
        for key in test_keys() {
            let good = SignedMessage { message_id: &message_id, timestamp, body: &body, signature_b64: &signature };
            prop_assert_eq!(key.verify(&good), Ok(()));
            let bad = SignedMessage { body: &tampered, ..good };
            prop_assert!(key.verify(&bad).is_err());
        }
    }
}
