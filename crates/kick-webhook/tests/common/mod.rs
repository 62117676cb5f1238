//! What the tests share: the committed test key pair, a signer that signs like Kick, and a
//! server on 127.0.0.1.

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use base64::{Engine as _, engine::general_purpose};
use rsa::{
    pkcs1v15::SigningKey,
    pkcs8::DecodePrivateKey,
    signature::{SignatureEncoding, Signer},
};
use serde_json::json;
use sha2::Sha256;

pub(crate) const PRIVATE_PEM: &str =
    include_str!("../../../kick-verify/tests/data/test_private.pem");
pub(crate) const PUBLIC_PEM: &str =
    include_str!("../../../kick-verify/tests/data/test_public_spki.pem");
pub(crate) const OTHER_PUBLIC_PEM: &str =
    include_str!("../../../kick-verify/tests/data/other_public_spki.pem");

/// Serves `app` on a loopback port until the test ends; its base URL.
pub(crate) async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The signature of `id.timestamp.body` with the test key, as Kick signs.
pub(crate) fn sign(id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = SigningKey::<Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE_PEM).unwrap());
    let input = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body].concat();
    general_purpose::STANDARD.encode(key.sign(&input).to_vec())
}

/// The six `Kick-Event-*` headers of `body` signed with the test key at `timestamp`.
pub(crate) fn signed(
    id: &str,
    timestamp: &str,
    event_type: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let signature = sign(id, timestamp, body);
    vec![
        ("Kick-Event-Message-Id", id.to_owned()),
        ("Kick-Event-Subscription-Id", "01JTESTSUB".to_owned()),
        ("Kick-Event-Signature", signature),
        ("Kick-Event-Message-Timestamp", timestamp.to_owned()),
        ("Kick-Event-Type", event_type.to_owned()),
        ("Kick-Event-Version", "1".to_owned()),
    ]
}

/// A chat delivery saying `text`, signed as Kick signs it.
pub(crate) fn signed_chat(n: u32, text: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = json!({
        "message_id": format!("chat-{n}"),
        "broadcaster": { "is_anonymous": false, "user_id": 42, "username": "streamer", "is_verified": true,
                         "profile_picture": "", "channel_slug": "streamer", "identity": null },
        "sender": { "is_anonymous": false, "user_id": 7, "username": "viewer", "is_verified": false,
                    "profile_picture": "", "channel_slug": "viewer", "identity": null },
        "content": text, "emotes": [], "created_at": "2026-01-01T00:00:00Z"
    })
    .to_string()
    .into_bytes();
    let id = format!("01JECHO{n:019}");
    (signed(&id, &time_now(), "chat.message.sent", &body), body)
}

/// Now as RFC 3339 (seconds), without a date crate.
pub(crate) fn time_now() -> String {
    time_ago(0)
}

/// `secs_ago` seconds before now as RFC 3339 (seconds).
#[allow(clippy::disallowed_methods)]
pub(crate) fn time_ago(secs_ago: u64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - secs_ago;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
