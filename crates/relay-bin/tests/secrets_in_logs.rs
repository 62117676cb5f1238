//! The real binary at `RUST_LOG=debug` (every crate), driven through its error paths: a
//! Discord output that works, one that is gone (10015, disabled), a raw output that refuses
//! connections, a signed raw output, good and bad signatures. Its whole log must not contain
//! the client secret, any output URL's token or query, the raw signing secret, a signature or
//! key material.

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use rsa::{
    pkcs1v15::SigningKey,
    pkcs8::DecodePrivateKey,
    signature::{SignatureEncoding, Signer},
};

mod common;

use common::{dir_with_keys, free_port, listen, serve, terminate, wait_healthy};

const CLIENT_SECRET: &str = "client-secret-Zq8uXW3n5kR1";
const TOKEN_OK: &str = "discord-token-ok-Hf72mNq0aPxV";
const TOKEN_GONE: &str = "discord-token-gone-Lp4sDk9wQe2T";
const TOKEN_RAW: &str = "raw-path-token-Vb6nYt1cMz8R";
const QUERY_RAW: &str = "raw-query-key-Gg3jUo5iWs7E";
const RAW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Answers by path: the working Discord webhook 204, the gone one 404 with code 10015, the
/// signed raw output 200. Counts requests per path.
async fn answer(
    State(seen): State<Arc<Mutex<Vec<String>>>>,
    uri: axum::http::Uri,
    _: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    seen.lock().unwrap().push(path.clone());
    if path.contains(TOKEN_GONE) {
        (
            StatusCode::NOT_FOUND,
            r#"{"message": "Unknown Webhook", "code": 10015}"#,
        )
            .into_response()
    } else if path.contains(TOKEN_OK) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        "ok".into_response()
    }
}

/// The config: four outputs whose URLs and secrets must never be logged.
fn write_config(dir: &std::path::Path, public: u16, admin: u16, outputs: u16, refused: u16) {
    std::fs::write(
        dir.join("relay.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:{public}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
             [kick]\npublic_key_file = \"keys/public.pem\"\nclient_id = \"client-id-1\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
             [storage]\ndatabase_url = \"sqlite://relay.db\"\n\
             [[output]]\nname = \"discord-ok\"\ntype = \"discord\"\nurl = \"http://127.0.0.1:{outputs}/api/webhooks/1/{TOKEN_OK}\"\n\
             [[output]]\nname = \"discord-gone\"\ntype = \"discord\"\nurl = \"http://127.0.0.1:{outputs}/api/webhooks/2/{TOKEN_GONE}\"\n\
             [[output]]\nname = \"raw-refused\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:{refused}/{TOKEN_RAW}?key={QUERY_RAW}\"\nretry_schedule_secs = [1, 1, 1]\n\
             [[output]]\nname = \"raw-signed\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:{outputs}/signed/{TOKEN_RAW}\"\nsecret = \"{RAW_SECRET}\"\n"
        ),
    )
    .unwrap();
}

/// Posts two good deliveries and one with a bad signature; returns the signatures sent.
async fn post_deliveries(client: &reqwest::Client, public: u16, pem: &str) -> Vec<String> {
    let signer = SigningKey::<sha2::Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap());
    let mut signatures = Vec::new();
    for n in 0..3 {
        let now = relay_bin::clock::rfc3339(relay_bin::clock::now());
        let body = serde_json::to_string(
            &relay_bin::samples::body(
                &kick_models::EventType::from("chat.message.sent"),
                n,
                &format!("00000000-0000-4000-8000-{n:012}"),
                &now,
            )
            .unwrap(),
        )
        .unwrap();
        let message_id = format!("01SECRETSTEST{n:013}");
        let input = [
            message_id.as_bytes(),
            b".",
            now.as_bytes(),
            b".",
            body.as_bytes(),
        ]
        .concat();
        let mut signature =
            base64::engine::general_purpose::STANDARD.encode(signer.sign(&input).to_vec());
        if n == 2 {
            // A bad signature: right shape, wrong bytes.
            signature = base64::engine::general_purpose::STANDARD.encode([7_u8; 256]);
        }
        signatures.push(signature.clone());
        let response = client
            .post(format!("http://127.0.0.1:{public}/webhooks/kick"))
            .header("Kick-Event-Message-Id", &message_id)
            .header("Kick-Event-Signature", &signature)
            .header("Kick-Event-Message-Timestamp", &now)
            .header("Kick-Event-Type", "chat.message.sent")
            .header("Kick-Event-Version", "1")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), if n == 2 { 400 } else { 200 });
    }
    signatures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_token_signature_or_url_reaches_the_debug_log() {
    let dir = dir_with_keys("secrets");
    let (public, admin, outputs) = (free_port(), free_port(), free_port());
    // Held (bound, never listening) for the whole test: connections to it are refused, and no
    // parallel test can take the port.
    let refusing = tokio::net::TcpSocket::new_v4().unwrap();
    refusing.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let refused = refusing.local_addr().unwrap().port();
    write_config(&dir, public, admin, outputs, refused);
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    listen(
        outputs,
        Router::new().fallback(answer).with_state(seen.clone()),
    )
    .await;

    let mut relay = serve(&dir);
    wait_healthy(admin).await;
    let client = reqwest::Client::new();

    let pem = std::fs::read_to_string(dir.join("keys/private.pem")).unwrap();
    let signatures = post_deliveries(&client, public, &pem).await;

    // Wait for: two messages at the working Discord output and the signed raw output, the
    // gone one disabled, the refused one retried.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
        let seen = seen.lock().unwrap().clone();
        let count = |needle: &str| seen.iter().filter(|p| p.contains(needle)).count();
        if count(TOKEN_OK) >= 2
            && count("/signed/") >= 2
            && log.contains("output disabled")
            && log.matches("delivery attempt did not succeed").count() >= 3
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the error paths did not all run: {seen:?}\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    terminate(&mut relay);

    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(log.contains("kick-relay stopped"), "{log}");
    assert!(log.contains("DEBUG"), "the log ran at debug level");
    let key_line = pem.lines().nth(1).unwrap();
    let secret_body = RAW_SECRET.trim_start_matches("whsec_");
    for (what, needle) in [
        ("the client secret", CLIENT_SECRET),
        ("a Discord webhook token", TOKEN_OK),
        ("a Discord webhook token", TOKEN_GONE),
        ("a token in an output URL's path", TOKEN_RAW),
        ("a key in an output URL's query", QUERY_RAW),
        ("the raw signing secret", secret_body),
        ("private key material", key_line),
        ("a signature", signatures[0].as_str()),
        ("a signature", signatures[1].as_str()),
        ("a (bad) signature", signatures[2].as_str()),
    ] {
        assert!(!log.contains(needle), "{what} leaked into the log:\n{log}");
    }
}
