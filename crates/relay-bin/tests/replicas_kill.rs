//! Two real `kick-relay serve` processes on one PostgreSQL database: kill -9 of the replica
//! sending an output while it has a backlog. The other takes the output over within 10 s (the
//! lease's TTL plus one renewal), resumes in order, and relays every acknowledged delivery;
//! only what was sent but not yet recorded is sent again.

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, extract::State, http::HeaderMap};

mod common;

use common::{BIN, dir_with_keys, free_port, listen, terminate, wait_healthy};

type Seen = Arc<Mutex<Vec<String>>>;

/// Takes a forwarded delivery a little slowly (so the killed replica leaves a backlog).
async fn take(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if let Some(id) = headers.get("kick-event-message-id") {
        seen.lock().unwrap().push(id.to_str().unwrap().to_owned());
    }
    "ok"
}

/// `kick-relay serve` in `dir` with config `name`, logging to `name.log`.
fn serve(dir: &std::path::Path, name: &str) -> Child {
    Command::new(BIN)
        .args(["--config", name, "serve"])
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join(format!("{name}.log"))).unwrap(),
        ))
        .spawn()
        .unwrap()
}

struct Signer(rsa::pkcs1v15::SigningKey<sha2::Sha256>);

impl Signer {
    fn from_dir(dir: &std::path::Path) -> Self {
        use rsa::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string(dir.join("keys/private.pem")).unwrap();
        Self(rsa::pkcs1v15::SigningKey::new(
            rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap(),
        ))
    }

    /// Posts a signed follow with message id `id` to the relay on `port`; the status.
    async fn post(&self, client: &reqwest::Client, port: u16, id: &str) -> u16 {
        use base64::Engine as _;
        use rsa::signature::{SignatureEncoding, Signer as _};
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let body = format!(
            r#"{{"broadcaster":{{"user_id":1}},"follower":{{"user_id":7,"username":"{id}"}}}}"#
        );
        let signed = [id.as_bytes(), b".", now.as_bytes(), b".", body.as_bytes()].concat();
        let signature =
            base64::engine::general_purpose::STANDARD.encode(self.0.sign(&signed).to_vec());
        client
            .post(format!("http://127.0.0.1:{port}/webhooks/kick"))
            .header("Content-Type", "application/json")
            .header("Kick-Event-Message-Id", id)
            .header("Kick-Event-Subscription-Id", "01KILLTESTSUBSCRIPTION0000")
            .header("Kick-Event-Signature", signature)
            .header("Kick-Event-Message-Timestamp", &now)
            .header("Kick-Event-Type", "channel.followed")
            .header("Kick-Event-Version", "1")
            .body(body)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }
}

async fn holds_output(admin: u16) -> bool {
    let Ok(response) = reqwest::get(format!("http://127.0.0.1:{admin}/metrics")).await else {
        return false;
    };
    response
        .text()
        .await
        .unwrap_or_default()
        .lines()
        .any(|l| l == "kick_relay_lease_held{lease=\"output:forward\"} 1")
}

/// Starts two replicas on `database` forwarding to `sink`; their processes, (public, admin)
/// ports, and which one holds the output.
async fn start_replicas(
    dir: &std::path::Path,
    database: &str,
    sink: u16,
) -> (Vec<Child>, Vec<(u16, u16)>, usize) {
    let ports: Vec<(u16, u16)> = (0..2).map(|_| (free_port(), free_port())).collect();
    for (i, (public, admin)) in ports.iter().enumerate() {
        std::fs::write(
            dir.join(format!("replica-{i}.toml")),
            format!(
                "[server]\nlisten = \"127.0.0.1:{public}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
                 [kick]\npublic_key_file = \"keys/public.pem\"\n[storage]\ndatabase_url = \"{database}\"\n\
                 [[output]]\nname = \"forward\"\ntype = \"forward\"\nurl = \"http://127.0.0.1:{sink}/kick\"\nmax_in_flight = 1\n"
            ),
        )
        .unwrap();
    }
    let replicas: Vec<Child> = (0..2)
        .map(|i| serve(dir, &format!("replica-{i}.toml")))
        .collect();
    for (_, admin) in &ports {
        wait_healthy(*admin).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let holder = loop {
        if holds_output(ports[0].1).await {
            break 0;
        }
        if holds_output(ports[1].1).await {
            break 1;
        }
        assert!(Instant::now() < deadline, "no replica took the output");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    (replicas, ports, holder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_sending_replica_hands_its_output_over_in_order() {
    let cluster = kick_testkit::PgCluster::start();
    let database = cluster.new_database();
    let dir = dir_with_keys("replicas-kill");
    let sink = free_port();
    let seen: Seen = Arc::default();
    listen(sink, Router::new().fallback(take).with_state(seen.clone())).await;
    let (mut replicas, ports, holder) = start_replicas(&dir, &database, sink).await;
    let survivor = 1 - holder;

    let signer = Signer::from_dir(&dir);
    let client = reqwest::Client::new();
    let id = |i: usize| format!("01JKILL{i:019}");
    for i in 0..120 {
        let (public, _) = ports[i % 2];
        assert_eq!(signer.post(&client, public, &id(i)).await, 200, "{i}");
    }
    // Kill the sender with most of its backlog still queued.
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "the holder sent nothing");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    replicas[holder].kill().unwrap();
    replicas[holder].wait().unwrap();
    let killed = Instant::now();
    let sent_before = seen.lock().unwrap().len();
    assert!(sent_before < 120, "the backlog was gone before the kill");
    for i in 120..160 {
        assert_eq!(
            signer.post(&client, ports[survivor].0, &id(i)).await,
            200,
            "{i}"
        );
    }
    while !holds_output(ports[survivor].1).await {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the survivor did not take the output over within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    let counts = || {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for id in seen.lock().unwrap().iter() {
            *counts.entry(id.clone()).or_default() += 1;
        }
        counts
    };
    while counts().len() < 160 {
        assert!(
            Instant::now() < deadline,
            "acknowledged deliveries missing: {} of 160",
            counts().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let mut first: Vec<&String> = Vec::new();
    for id in &seen {
        if !first.contains(&id) {
            first.push(id);
        }
    }
    let expected: Vec<String> = (0..160).map(id).collect();
    assert_eq!(
        first,
        expected.iter().collect::<Vec<_>>(),
        "first sends in order"
    );
    // Repeats: only the deliveries the killed replica had sent without recording it.
    let repeats = seen.len() - 160;
    assert!(
        repeats <= sent_before,
        "{repeats} repeats, {sent_before} sent before the kill"
    );
    assert!(
        counts().values().all(|n| *n <= 2),
        "nothing sent three times"
    );
    terminate(&mut replicas[survivor]);
}
