//! What the tests share: the workspace's test kit (keys, a signer that signs like Kick, times)
//! and a server on 127.0.0.1.

#![allow(dead_code, unused_imports)]

use axum::Router;
use kick_testkit::KickSigner;
pub(crate) use kick_testkit::{
    OTHER_PUBLIC_PEM, TEST_PUBLIC_PEM as PUBLIC_PEM, now_rfc3339 as time_now,
};
use serde_json::json;

/// Serves `app` on a loopback port until the test ends; its base URL.
pub(crate) async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The signature of `id.timestamp.body` with the test key, as Kick signs.
pub(crate) fn sign(id: &str, timestamp: &str, body: &[u8]) -> String {
    KickSigner::test_key().sign(id, timestamp, body)
}

/// The six `Kick-Event-*` headers of `body` signed with the test key at `timestamp`.
pub(crate) fn signed(
    id: &str,
    timestamp: &str,
    event_type: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    KickSigner::test_key().headers(id, timestamp, event_type, body)
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

/// `secs_ago` seconds before now as RFC 3339.
pub(crate) fn time_ago(secs_ago: u64) -> String {
    kick_testkit::rfc3339_ago(i64::try_from(secs_ago).unwrap())
}
