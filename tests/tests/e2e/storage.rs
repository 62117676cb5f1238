//! Storage faults: a full disk makes ingest answer 503 with Retry-After and store nothing it
//! could not commit; /readyz says so; everything recovers without a restart once space is back.

use std::{path::PathBuf, process::Command};

use relay_tests::TestRelay;

/// A tiny tmpfs mounted for the test, unmounted when dropped.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount(size: &str) -> Self {
        let dir = TestRelay::fresh_dir();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "this test mounts a small tmpfs to fill it; it needs root (as on the project's machines and CI)"
        );
        Self(dir)
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &std::path::Path) {
    use std::io::Write as _;
    let chunk = vec![0_u8; 16 * 1024];
    let mut file = std::fs::File::create(path).unwrap();
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}

/// Posts a signed custom event; returns status, Retry-After and body.
async fn post(relay: &TestRelay, i: usize, body: &[u8]) -> (u16, Option<String>, String) {
    let headers = relay.signer.headers(
        &format!("01JFULL{i:019}"),
        &relay_tests::now_rfc3339(),
        "custom.event",
        body,
    );
    let mut request = reqwest::Client::new()
        .post(relay.webhook_url())
        .body(body.to_vec());
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, response.text().await.unwrap())
}

async fn get(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gives_503_loses_nothing_acknowledged_and_recovers() {
    let disk = TinyDisk::mount("2m");
    let mut relay = TestRelay::start_in(disk.0.clone(), "").await;
    assert_eq!(get(relay.admin_url("/readyz")).await.0, 200);

    fill(&disk.0.join("filler-1"));
    let body = |i: usize| format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(20_000)).into_bytes();
    let mut acked = 0;
    let mut refused = Vec::new();
    for i in 0..200 {
        let (status, retry_after, text) = post(&relay, i, &body(i)).await;
        match status {
            200 => acked += 1,
            503 => {
                assert!(text.contains("storage unavailable"), "{text}");
                assert_eq!(retry_after.as_deref(), Some("5"));
                refused.push(i);
                break;
            }
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert!(
        !refused.is_empty(),
        "the disk filled up and ingest answered 503"
    );
    // From the first refused commit on, /readyz says so (even where its own small probe
    // write would still fit).
    let (ready, text) = get(relay.admin_url("/readyz")).await;
    assert_eq!(ready, 503, "{text}");
    assert!(text.contains("the last webhook's commit failed"), "{text}");
    // Take whatever a rolled-back write gave back. SQLite may still fit small writes into
    // space its files already hold (a WAL file grown by the failed write, or reused after a
    // checkpoint); whatever it acknowledges it has stored, which the count at the end checks.
    // Once nothing fits any more, /readyz must say so.
    let mut fillers = vec![disk.0.join("filler-1")];
    let mut ready = (200, String::new());
    for round in 0..20 {
        let filler = disk.0.join(format!("filler-{}", round + 2));
        fill(&filler);
        fillers.push(filler);
        ready = get(relay.admin_url("/readyz")).await;
        if ready.0 == 503 {
            break;
        }
        match post(&relay, 300 + round, &body(300 + round)).await {
            (200, _, _) => acked += 1,
            (503, _, _) => refused.push(300 + round),
            (other, _, text) => panic!("unexpected {other}: {text}"),
        }
    }
    let (ready, text) = ready;
    assert_eq!(ready, 503, "{text}");
    assert!(text.contains("not writable"), "{text}");
    for i in 500..510 {
        match post(&relay, i, &body(i)).await {
            (200, _, _) => acked += 1,
            (503, retry_after, _) => {
                assert_eq!(retry_after.as_deref(), Some("5"));
                refused.push(i);
            }
            (other, _, text) => panic!("unexpected {other}: {text}"),
        }
    }

    // Space comes back: ready again and accepting, without a restart.
    for filler in fillers {
        std::fs::remove_file(filler).unwrap();
    }
    // A failed webhook commit holds /readyz for a few seconds; then the database is probed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (ready, text) = get(relay.admin_url("/readyz")).await;
        if ready == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never ready again: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    for &i in &refused {
        let (status, _, text) = post(&relay, i, &body(i)).await;
        assert_eq!(
            (status, text.as_str()),
            (200, "accepted"),
            "Kick's retry of refused event {i} is stored now"
        );
    }

    let metrics = relay.metrics().await;
    let inbox = metrics
        .lines()
        .find(|l| l.starts_with("kick_relay_inbox_rows"))
        .unwrap();
    assert_eq!(
        inbox,
        format!("kick_relay_inbox_rows {}", acked + refused.len()),
        "exactly the acknowledged events are stored"
    );
    relay.stop().await;
}

/// Remounts the test's file system read-only or read-write.
fn remount(disk: &TinyDisk, mode: &str) {
    let status = Command::new("mount")
        .args(["-o", &format!("remount,{mode}")])
        .arg(&disk.0)
        .status();
    assert!(status.is_ok_and(|s| s.success()), "remount {mode}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_refuses_to_start_with_a_clear_error() {
    // Linux refuses to remount a file system read-only while the relay holds its files open
    // for writing, so the running case is the full disk above; here the relay meets a database
    // on a read-only file system at start (root ignores file modes, so a read-only mount is the
    // honest test). It must refuse to start rather than acknowledge what it cannot store.
    let disk = TinyDisk::mount("16m");
    let mut relay = TestRelay::start_in(disk.0.clone(), "").await;
    for i in 0..3 {
        let body = format!("{{\"n\":{i}}}").into_bytes();
        assert_eq!(post(&relay, i, &body).await.0, 200);
    }
    relay.stop().await;
    drop(relay);

    remount(&disk, "ro");
    // The config and key live elsewhere; only the database is on the read-only mount.
    let elsewhere = TestRelay::fresh_dir();
    let config_path = TestRelay::write_config(&elsewhere, "");
    let config_text = std::fs::read_to_string(&config_path).unwrap().replace(
        &elsewhere.join("relay.db").display().to_string(),
        &disk.0.join("relay.db").display().to_string(),
    );
    std::fs::write(&config_path, config_text).unwrap();
    let (config, _) = relay_bin::config::Config::load(Some(&config_path)).unwrap();
    let err = match relay_bin::relay::Relay::new(config.clone()).await {
        Ok(_) => panic!("the relay started on a read-only database"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("relay.db") && err.contains("read-only"),
        "the error names the database and the cause: {err}"
    );

    // Writable again: it starts, and what it acknowledged before is still there.
    remount(&disk, "rw");
    let relay = relay_bin::relay::Relay::new(config).await.unwrap();
    let stats = relay.store.stats(0).await.unwrap();
    assert_eq!(stats.inbox, 3);
    std::fs::remove_dir_all(&elsewhere).unwrap();
}
