//! The real binary with a Discord output: kill -9 while a combined message of chat lines is on
//! its way loses none of them; the lines that were in flight are sent again (at-least-once).

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    collections::BTreeMap,
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, response::IntoResponse};

mod common;

use common::{
    BIN, dir_with_keys, free_port, listen, serve, terminate, wait_healthy, write_relay_toml,
};

type Lines = Arc<Mutex<Vec<Vec<u64>>>>;

/// Takes a Discord message slowly (so a kill finds one in flight) and records which
/// `test message N` lines it carried.
async fn take(State(seen): State<Lines>, _headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let numbers: Vec<u64> = json["content"]
        .as_str()
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let rest = line.split("test message ").nth(1)?;
            rest.split(' ').next()?.parse().ok()
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    seen.lock().unwrap().push(numbers);
    (
        [
            ("x-ratelimit-remaining", "4"),
            ("x-ratelimit-reset-after", "2"),
        ],
        "{}",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_combined_discord_message_loses_no_chat_line() {
    let dir = dir_with_keys("discord-kill");
    let (public, admin, port) = (free_port(), free_port(), free_port());
    write_relay_toml(
        &dir,
        public,
        admin,
        &format!(
            "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"http://127.0.0.1:{port}/api/webhooks/1/t\"\nmax_lag_secs = 0\n"
        ),
    );
    let seen: Lines = Arc::default();
    listen(port, Router::new().fallback(take).with_state(seen.clone())).await;
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
            "60",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&sent.stdout);
    assert_eq!(out.matches("200 accepted").count(), 60, "{out}");

    // Kill while a message carrying several lines is on its way (the stand-in is slow).
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.lock().unwrap().iter().any(|m| m.len() > 1) {
        assert!(
            Instant::now() < deadline,
            "no combined message: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.kill().unwrap();
    relay.wait().unwrap();
    let before = seen.lock().unwrap().len();

    let mut relay = serve(&dir);
    wait_healthy(admin).await;
    let deadline = Instant::now() + Duration::from_mins(1);
    let times = || {
        let mut times: BTreeMap<u64, usize> = BTreeMap::new();
        for message in seen.lock().unwrap().iter() {
            for n in message {
                *times.entry(*n).or_default() += 1;
            }
        }
        times
    };
    while times().len() < 60 {
        assert!(
            Instant::now() < deadline,
            "lines missing after the restart: {:?}",
            times()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let times = times();
    assert_eq!(
        times.keys().copied().collect::<Vec<_>>(),
        (0..60).collect::<Vec<_>>()
    );
    assert!(
        seen.lock().unwrap().len() > before,
        "the restarted relay sent the rest"
    );
    // Repeats: only what was sent but not yet recorded (bounded), nothing sent three times.
    assert!(times.values().all(|t| *t <= 2), "{times:?}");
    terminate(&mut relay);
}
