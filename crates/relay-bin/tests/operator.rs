//! What an operator does with the real binary beside a serving relay: `${VAR}` inside a URL,
//! `keygen`'s private key mode, `send-test` run twice, a second `serve` on the same database,
//! and `outputs disable|enable` taking effect on the running relay.

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::Uri};

mod common;

use common::{BIN, dir_with_keys, free_port, listen, terminate, wait_healthy, write_relay_toml};

/// Runs a CLI command in `dir`; (success, stdout, stderr).
fn cli(dir: &Path, port: u16, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(["--config", "relay.toml"])
        .args(args)
        .current_dir(dir)
        .env("OUT_PORT", port.to_string())
        .env("HOOK_TOKEN", "t0k3n")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn cli_ok(dir: &Path, port: u16, args: &[&str]) -> String {
    let (ok, stdout, stderr) = cli(dir, port, args);
    assert!(ok, "{args:?}: {stderr}");
    stdout
}

type Seen = Arc<Mutex<Vec<String>>>;

/// Requests seen at `path`.
fn count(seen: &Seen, path: &str) -> usize {
    seen.lock().unwrap().iter().filter(|p| *p == path).count()
}

/// Records the path of every request.
async fn record(State(seen): State<Seen>, uri: Uri, _: Bytes) -> &'static str {
    seen.lock().unwrap().push(uri.path().to_owned());
    "ok"
}

async fn wait_until(what: &str, done: impl FnMut() -> bool) {
    kick_testkit::eventually(what, Duration::from_secs(20), done).await;
}

/// `send-test --count 2` against the relay at `url`.
fn send_two(dir: &Path, port: u16, url: &str) -> String {
    cli_ok(
        dir,
        port,
        &[
            "send-test",
            "--url",
            url,
            "--key",
            "keys/private.pem",
            "--count",
            "2",
        ],
    )
}

async fn metrics(admin: u16) -> String {
    reqwest::get(format!("http://127.0.0.1:{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// `relay.toml` with two raw outputs: `raw`, whose URL is assembled from two variables (one of
/// them inside the path), and `witness` on `port`.
fn write_two_outputs(dir: &Path, public: u16, admin: u16, port: u16) {
    write_relay_toml(
        dir,
        public,
        admin,
        &format!(
            "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:${{OUT_PORT}}/hooks/${{HOOK_TOKEN}}\"\n\
             [[output]]\nname = \"witness\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:{port}/witness\"\n"
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_steers_a_running_relay() {
    let dir = dir_with_keys("operator");
    let mode = std::fs::metadata(dir.join("keys/private.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "keygen's private key is its owner's only"
    );

    let (public, admin, port) = (free_port(), free_port(), free_port());
    write_two_outputs(&dir, public, admin, port);
    let seen: Seen = Arc::default();
    listen(
        port,
        Router::new().fallback(record).with_state(seen.clone()),
    )
    .await;

    let mut relay = serve_with_env(&dir, port);
    wait_healthy(admin).await;

    // A second relay on the same database is refused, naming the first.
    let second = Command::new(BIN)
        .args(["--config", "relay.toml", "serve"])
        .current_dir(&dir)
        .env("OUT_PORT", port.to_string())
        .env("HOOK_TOKEN", "t0k3n")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", relay.id())) && stderr.contains("relay.db"),
        "{stderr}"
    );

    // send-test twice: every run's samples are new events.
    let url = format!("http://127.0.0.1:{public}/webhooks/kick");
    for run in 0..2 {
        let out = send_two(&dir, port, &url);
        assert_eq!(out.matches("200 accepted").count(), 2, "run {run}: {out}");
    }
    wait_until("four deliveries at the expanded URL", || {
        count(&seen, "/hooks/t0k3n") == 4
    })
    .await;

    disable_then_enable(&dir, port, admin, &url, &seen).await;

    terminate(&mut relay);
    // Stopped: the database is free for the next relay.
    let mut next = serve_with_env(&dir, port);
    wait_healthy(admin).await;
    terminate(&mut next);
}

/// The same operator commands against a relay whose store is PostgreSQL, run from another
/// process: `deliveries list`, `outputs disable|enable`, `replay` reach the serving relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_steers_a_relay_on_postgres() {
    let cluster = kick_testkit::PgCluster::start();
    let database = cluster.new_database();
    let dir = dir_with_keys("operator-pg");
    let (public, admin, port) = (free_port(), free_port(), free_port());
    write_two_outputs(&dir, public, admin, port);
    let config = std::fs::read_to_string(dir.join("relay.toml")).unwrap();
    std::fs::write(
        dir.join("relay.toml"),
        config.replace("sqlite://relay.db", &database),
    )
    .unwrap();
    let seen: Seen = Arc::default();
    listen(
        port,
        Router::new().fallback(record).with_state(seen.clone()),
    )
    .await;
    let mut relay = serve_with_env(&dir, port);
    wait_healthy(admin).await;
    let url = format!("http://127.0.0.1:{public}/webhooks/kick");
    for _ in 0..2 {
        let out = send_two(&dir, port, &url);
        assert_eq!(out.matches("200 accepted").count(), 2, "{out}");
    }
    wait_until("four deliveries", || count(&seen, "/hooks/t0k3n") == 4).await;
    let listed = cli_ok(
        &dir,
        port,
        &[
            "deliveries",
            "list",
            "--output",
            "raw",
            "--status",
            "delivered",
        ],
    );
    assert_eq!(listed.lines().count(), 4, "{listed}");
    disable_then_enable(&dir, port, admin, &url, &seen).await;
    let ready = reqwest::get(format!("http://127.0.0.1:{admin}/readyz"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ready.contains("database (postgres) writable"), "{ready}");
    terminate(&mut relay);
}

/// `outputs disable raw` on the running relay: nothing more is sent to it and new events are
/// skipped; `outputs enable raw`: new events flow, and `replay` sends the skipped ones.
async fn disable_then_enable(dir: &Path, port: u16, admin: u16, url: &str, seen: &Seen) {
    // Disable: the running relay stops sending within seconds; new events are skipped.
    let out = cli_ok(dir, port, &["outputs", "disable", "raw"]);
    assert!(out.contains("raw disabled"), "{out}");
    wait_for_raw_disabled(admin, true).await;
    send_two(dir, port, url);
    wait_until("the witness to get the two new events", || {
        count(seen, "/witness") == 6
    })
    .await;
    wait_until("the two new events to be skipped for raw", || {
        cli_ok(
            dir,
            port,
            &[
                "deliveries",
                "list",
                "--output",
                "raw",
                "--status",
                "skipped",
            ],
        )
        .lines()
        .count()
            >= 2
    })
    .await;
    assert_eq!(
        count(seen, "/hooks/t0k3n"),
        4,
        "nothing sent to a disabled output"
    );

    // A replay onto the disabled output is refused: its rows would stay pending for ever.
    let (ok, _, stderr) = cli(
        dir,
        port,
        &["replay", "--output", "raw", "--status", "skipped"],
    );
    assert!(!ok, "refused");
    assert!(stderr.contains("enable it first"), "{stderr}");
    // Enable: new events flow again; the skipped ones come back with replay.
    cli_ok(dir, port, &["outputs", "enable", "raw"]);
    wait_for_raw_disabled(admin, false).await;
    send_two(dir, port, url);
    wait_until("new events to reach the enabled output", || {
        count(seen, "/hooks/t0k3n") == 6
    })
    .await;
    let out = cli_ok(
        dir,
        port,
        &["replay", "--output", "raw", "--status", "skipped"],
    );
    assert!(out.contains("queued 2 skipped"), "{out}");
    wait_until("the replayed events", || count(seen, "/hooks/t0k3n") == 8).await;
}

/// Waits (up to 10 s) until the relay's metrics say output `raw` is disabled (or not).
async fn wait_for_raw_disabled(admin: u16, disabled: bool) {
    let what = if disabled {
        "the relay to notice the disable"
    } else {
        "the relay to notice the enable"
    };
    kick_testkit::eventually_async(what, Duration::from_secs(10), || async {
        metrics(admin)
            .await
            .contains("kick_relay_output_disabled{output=\"raw\"} 1")
            == disabled
    })
    .await;
}

/// `kick-relay serve` in `dir` with the two variables the config names.
fn serve_with_env(dir: &Path, port: u16) -> std::process::Child {
    Command::new(BIN)
        .args(["--config", "relay.toml", "serve"])
        .current_dir(dir)
        .env("OUT_PORT", port.to_string())
        .env("HOOK_TOKEN", "t0k3n")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}
