//! The real binary: kill -9 under load loses nothing that was acknowledged; SIGTERM stops it
//! cleanly. Uses `kick-relay keygen` and `kick-relay send-test` as a user would.

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    collections::BTreeSet,
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap};

mod common;

use common::{BIN, dir_with_keys, free_port, serve, wait_healthy, write_relay_toml};

/// Records the `webhook-id` of one request.
async fn take(
    State(seen): State<Arc<Mutex<Vec<String>>>>,
    headers: HeaderMap,
    _body: Bytes,
) -> &'static str {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap().push(id);
    "ok"
}

/// A raw receiver on `socket` (bound, not yet listening: until now connections to it were
/// refused, and no other test could take its port) that records every `webhook-id`.
fn receiver(socket: tokio::net::TcpSocket) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = socket.listen(1024).unwrap();
    let app = Router::new().fallback(take).with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_acknowledged_and_sigterm_is_clean() {
    let dir = dir_with_keys("restart");
    let (public, admin) = (free_port(), free_port());
    // The receiver's port is held (bound, not listening) so that it stays down, refusing
    // connections, and no parallel test can take it.
    let raw_socket = tokio::net::TcpSocket::new_v4().unwrap();
    raw_socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let raw = raw_socket.local_addr().unwrap().port();
    write_relay_toml(
        &dir,
        public,
        admin,
        &format!(
            "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:{raw}/hook\"\nretry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        ),
    );

    // The receiver is down: everything the relay acknowledges must wait in its outbox.
    let mut relay = serve(&dir);
    wait_healthy(admin).await;
    let sent = Command::new(BIN)
        .args([
            "send-test",
            "--url",
            &format!("http://127.0.0.1:{public}/webhooks/kick"),
            "--key",
            "keys/private.pem",
            "--count",
            "20",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&sent.stdout);
    let acked: BTreeSet<String> = out
        .lines()
        .filter(|l| l.ends_with("200 accepted"))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(acked.len(), 20, "{out}");
    relay.kill().unwrap(); // SIGKILL
    relay.wait().unwrap();

    let seen = receiver(raw_socket);
    let mut relay = serve(&dir);
    wait_healthy(admin).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && seen.lock().unwrap().iter().collect::<BTreeSet<_>>().len() < acked.len()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered: BTreeSet<String> = seen.lock().unwrap().iter().cloned().collect();
    assert_eq!(
        delivered, acked,
        "every acknowledged event was delivered after the kill"
    );

    let pid = relay.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = relay.wait().unwrap();
    assert!(status.success(), "SIGTERM ends the relay cleanly: {status}");
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    assert!(log.contains("kick-relay stopped"), "{log}");
    // Even at debug level the log names outputs, never their URLs or key material.
    assert!(
        !log.contains(&format!("127.0.0.1:{raw}/hook")),
        "an output URL leaked into the log"
    );
    let private = std::fs::read_to_string(dir.join("keys/private.pem")).unwrap();
    let key_line = private.lines().nth(1).unwrap();
    assert!(!log.contains(key_line), "key material leaked into the log");
}
