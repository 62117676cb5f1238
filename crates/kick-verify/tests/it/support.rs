//! Test keys, known-answer vectors and a signer (signing lives only in tests).

use kick_verify::{Backend, PublicKey, SignedMessage};

pub(crate) const TEST_PRIVATE_PEM: &str = include_str!("../data/test_private.pem");
pub(crate) const TEST_PUBLIC_SPKI_PEM: &str = include_str!("../data/test_public_spki.pem");
pub(crate) const TEST_PUBLIC_PKCS1_PEM: &str = include_str!("../data/test_public_pkcs1.pem");
pub(crate) const OTHER_PUBLIC_SPKI_PEM: &str = include_str!("../data/other_public_spki.pem");
pub(crate) const SMALL_PUBLIC_SPKI_PEM: &str = include_str!("../data/small_public_spki.pem");

/// A known-answer vector signed by openssl (see tests/data/README.md).
pub(crate) struct Vector {
    pub(crate) message_id: &'static str,
    pub(crate) timestamp: &'static str,
    pub(crate) body: &'static [u8],
    pub(crate) signature: &'static str,
}

impl Vector {
    pub(crate) fn message(&self) -> SignedMessage<'static> {
        SignedMessage {
            message_id: self.message_id,
            timestamp: self.timestamp,
            body: self.body,
            signature_b64: self.signature,
        }
    }
}

pub(crate) const KAT: [Vector; 2] = [
    Vector {
        message_id: "01JMND5PS7XQ0V3F9E2B4C6D8A",
        timestamp: "2025-02-21T23:23:36Z",
        body: include_bytes!("../data/kat1.body"),
        signature: include_str!("../data/kat1.sig"),
    },
    Vector {
        message_id: "01JMND5PS7XQ0V3F9E2B4C6D8B",
        timestamp: "2026-11-23T18:00:00.123456789+01:00",
        body: include_bytes!("../data/kat2.body"),
        signature: include_str!("../data/kat2.sig"),
    },
];

/// The test key on each compiled backend.
pub(crate) fn test_keys() -> Vec<PublicKey> {
    keys_for(TEST_PUBLIC_SPKI_PEM)
}

/// The key in `pem` on each compiled backend.
pub(crate) fn keys_for(pem: &str) -> Vec<PublicKey> {
    let key = PublicKey::from_pem(pem).expect("test key parses");
    Backend::ALL
        .iter()
        .map(|backend| key.clone().with_backend(*backend))
        .collect()
}

/// Signs like Kick does, with the committed test private key.
pub(crate) fn sign(message_id: &str, timestamp: &str, body: &[u8]) -> String {
    kick_testkit::KickSigner::test_key().sign(message_id, timestamp, body)
}
