//! What every test suite of the workspace shares, with no dependency on the crates it tests:
//! the committed test key pair and a signer that signs exactly as Kick does, loopback ports,
//! waiting for a condition that fails loudly, times as RFC 3339, and stand-ins that behave like
//! the real services, limits included (a plain recorder, Discord, Kick's API), plus a throwaway
//! PostgreSQL cluster.

use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use rsa::{
    RsaPrivateKey,
    pkcs1v15::SigningKey,
    pkcs8::DecodePrivateKey,
    signature::{SignatureEncoding, Signer},
};
use sha2::Sha256;

pub mod discord;
mod kick_api;
mod postgres;
mod stand_in;

pub use self::{
    discord::{DiscordStandIn, Posted},
    kick_api::{FakeKickApi, Subscription},
    postgres::PgCluster,
    stand_in::{Received, Reply, StandIn},
};

/// The test private key (PKCS#8 PEM) committed with kick-verify's tests. Never used elsewhere.
pub const TEST_PRIVATE_PEM: &str =
    include_str!("../../crates/kick-verify/tests/data/test_private.pem");
/// Its public half (SPKI PEM).
pub const TEST_PUBLIC_PEM: &str =
    include_str!("../../crates/kick-verify/tests/data/test_public_spki.pem");
/// Another key's public half: a signature by the test key does not verify with it.
pub const OTHER_PUBLIC_PEM: &str =
    include_str!("../../crates/kick-verify/tests/data/other_public_spki.pem");

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

/// A loopback port nobody listens on right now (for servers that pick their port from
/// arguments, like PostgreSQL or the relay binary).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Waits until `done` holds, looking every 20 ms, for at most `limit`.
///
/// # Panics
/// When `limit` passes first: "timed out after {limit:?} waiting for {what}", never silently.
pub async fn eventually(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the future `done()` resolves to `true` (an HTTP probe, say), trying every
/// 50 ms, for at most `limit`.
///
/// # Panics
/// When `limit` passes first: "timed out after {limit:?} waiting for {what}", never silently.
pub async fn eventually_async<F, Fut>(what: &str, limit: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Now as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    rfc3339_ago(0)
}

/// `secs` seconds before now as RFC 3339 UTC with milliseconds (a negative `secs`: after now).
///
/// # Panics
/// Never for times within a few centuries of now.
#[allow(clippy::disallowed_methods)] // a test's "now" is the wall clock
pub fn rfc3339_ago(secs: i64) -> String {
    let now = SystemTime::now();
    let offset = Duration::from_secs(secs.unsigned_abs());
    let at = if secs >= 0 {
        now - offset
    } else {
        now + offset
    };
    let millis = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::try_from(millis).expect("a time in range") * 1_000_000,
    )
    .expect("a time in range");
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats every time in range")
}
