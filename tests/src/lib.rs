//! Helpers for end-to-end tests: the committed test key pair and a signer that signs exactly as
//! Kick does. The suite grows with the relay binary; today it checks that kick-models and
//! kick-verify agree on whole signed deliveries.

use base64::Engine as _;
use rsa::{
    RsaPrivateKey,
    pkcs1v15::SigningKey,
    pkcs8::DecodePrivateKey,
    signature::{SignatureEncoding, Signer},
};
use sha2::Sha256;

/// The test private key (PKCS#8 PEM) committed with kick-verify's tests. Never used elsewhere.
pub const TEST_PRIVATE_PEM: &str =
    include_str!("../../crates/kick-verify/tests/data/test_private.pem");
/// Its public half (SPKI PEM).
pub const TEST_PUBLIC_PEM: &str =
    include_str!("../../crates/kick-verify/tests/data/test_public_spki.pem");

/// Signs deliveries like Kick: RSASSA-PKCS1-v1_5 / SHA-256 over `id.timestamp.body`.
#[derive(Clone, Debug)]
pub struct KickSigner {
    key: SigningKey<Sha256>,
}

impl KickSigner {
    /// A signer for `private_pem` (PKCS#8).
    ///
    /// # Panics
    /// When the PEM is not an RSA private key (test set-up error).
    pub fn new(private_pem: &str) -> Self {
        let private =
            RsaPrivateKey::from_pkcs8_pem(private_pem).expect("an RSA PKCS#8 private key");
        Self {
            key: SigningKey::new(private),
        }
    }

    /// The signer for the committed test key.
    pub fn test_key() -> Self {
        Self::new(TEST_PRIVATE_PEM)
    }

    /// The standard Base64 signature of one delivery.
    pub fn sign(&self, message_id: &str, timestamp: &str, body: &[u8]) -> String {
        let signed = [
            message_id.as_bytes(),
            b".",
            timestamp.as_bytes(),
            b".",
            body,
        ]
        .concat();
        base64::engine::general_purpose::STANDARD.encode(self.key.sign(&signed).to_vec())
    }

    /// The six `Kick-Event-*` headers of a signed delivery, as Kick sends them.
    pub fn headers(
        &self,
        message_id: &str,
        timestamp: &str,
        event_type: &str,
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        vec![
            ("Kick-Event-Message-Id", message_id.to_owned()),
            (
                "Kick-Event-Subscription-Id",
                "01JTESTSUBSCRIPTION00000000".to_owned(),
            ),
            (
                "Kick-Event-Signature",
                self.sign(message_id, timestamp, body),
            ),
            ("Kick-Event-Message-Timestamp", timestamp.to_owned()),
            ("Kick-Event-Type", event_type.to_owned()),
            ("Kick-Event-Version", "1".to_owned()),
        ]
    }
}

pub mod discord;
mod kick_api;
mod postgres;
mod stand_in;
mod test_relay;

pub use self::{
    discord::{DiscordStandIn, Posted},
    kick_api::{FakeKickApi, Subscription},
    postgres::PgCluster,
    stand_in::{Received, Reply, StandIn},
    test_relay::{TestClock, TestRelay, metric, now_rfc3339, rfc3339_ago},
};

/// A loopback port nobody listens on right now (for servers that pick their port from
/// arguments, like PostgreSQL).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}
