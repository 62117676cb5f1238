//! Dead letters are replayable: an output that fails past its retry schedule leaves the
//! delivery dead; `kick-relay replay`, run as a separate process while the relay serves,
//! queues it again and the running relay delivers it.

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    path::Path,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::StatusCode};

mod common;

use common::{
    BIN, dir_with_keys, free_port, listen, serve, terminate, wait_healthy, write_relay_toml,
};

/// Runs a CLI command in `dir`; its stdout, or a panic with stderr when it fails.
fn cli(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(["--config", "relay.toml"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The first two requests get 500, later ones 204.
async fn answer(State(count): State<Arc<AtomicUsize>>, _: Bytes) -> StatusCode {
    if count.fetch_add(1, Ordering::SeqCst) < 2 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn wait_until(what: &str, done: impl FnMut() -> bool) {
    kick_testkit::eventually(what, Duration::from_secs(30), done).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_delivered_after_kick_relay_replay() {
    let dir = dir_with_keys("dead");
    let (public, admin, output) = (free_port(), free_port(), free_port());
    write_relay_toml(
        &dir,
        public,
        admin,
        &format!(
            "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:{output}/hook\"\nretry_schedule_secs = [1]\n"
        ),
    );
    let count = Arc::new(AtomicUsize::new(0));
    listen(
        output,
        Router::new().fallback(answer).with_state(count.clone()),
    )
    .await;

    let mut relay = serve(&dir);
    wait_healthy(admin).await;
    let url = format!("http://127.0.0.1:{public}/webhooks/kick");
    let sent = cli(
        &dir,
        &["send-test", "--url", &url, "--key", "keys/private.pem"],
    );
    assert!(sent.contains("200 accepted"), "{sent}");

    // One attempt and one retry, both 500: dead.
    wait_until("the delivery to be dead", || {
        cli(&dir, &["deliveries", "list", "--status", "dead"]).contains("raw")
    })
    .await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "no send after the schedule ran out"
    );

    let replayed = cli(&dir, &["replay", "--output", "raw"]);
    assert!(replayed.contains("queued 1 dead"), "{replayed}");
    wait_until("the replayed delivery", || {
        count.load(Ordering::SeqCst) >= 3
    })
    .await;
    wait_until("the delivery to be recorded as delivered", || {
        cli(&dir, &["deliveries", "list", "--status", "delivered"]).contains("raw")
    })
    .await;
    assert!(
        !cli(&dir, &["deliveries", "list", "--status", "dead"]).contains("raw"),
        "no dead letter left"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3, "sent exactly once more");

    terminate(&mut relay);
}
