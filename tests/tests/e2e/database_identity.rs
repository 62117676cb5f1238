//! A database that is not the one the relay served: deleted or replaced under a running relay
//! (SQLite), dropped and created again (PostgreSQL). Noticed at the next request, said by
//! `/readyz` and the admin page, refused at the next start; nothing acknowledged is lost or
//! relayed twice once the rescued copy is put back.

use std::time::Duration;

use relay_bin::{config::Config, relay::Relay};
use relay_tests::{PgCluster, Reply, StandIn, TestRelay};

fn raw_output(url: &str) -> String {
    format!("[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{url}\"\nmax_in_flight = 1\n")
}

/// The webhook ids the stand-in got, in order.
fn ids(sink: &StandIn) -> Vec<String> {
    sink.received()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect()
}

fn numbered(n: usize) -> String {
    format!("01JGONE{n:019}")
}

/// A relay refuses to start on `dir`'s config; what it said.
async fn refused(dir: &std::path::Path, start_empty: bool) -> Result<(), String> {
    let (mut config, _) = Config::load(Some(&dir.join("relay.toml"))).unwrap();
    config.storage.start_empty = start_empty;
    match Relay::new(config).await {
        Ok(relay) => {
            relay.store.close().await.unwrap();
            relay.release_instance_lock();
            Ok(())
        }
        Err(err) => Err(format!("{err:#}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_sqlite_file_is_noticed_refused_at_start_and_its_copy_restores_everything() {
    let sink = StandIn::always(Reply::status(204)).await;
    let dir = TestRelay::fresh_dir();
    let output = raw_output(&sink.url("/hook"));
    let mut relay = TestRelay::start_in(dir.clone(), &output).await;
    for n in 0..3 {
        assert_eq!(relay.post_numbered("01JGONE", n).await, 200);
    }
    sink.wait_for(3, Duration::from_secs(10)).await;
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 3",
            Duration::from_secs(10),
        )
        .await;
    // Chat text, usernames and Kick's bodies: the owner's only, whatever the umask.
    for file in [
        "relay.db",
        "relay.db-wal",
        "relay.db-shm",
        "relay.db.id",
        "relay.db.lock",
    ] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }

    std::fs::remove_file(dir.join("relay.db")).unwrap();
    // The very next request is committed into the deleted file, found out and answered 503:
    // nothing is acknowledged into a file that is gone (Kick sends it again).
    assert_eq!(relay.post_numbered("01JGONE", 3).await, 503);
    assert_eq!(relay.post_numbered("01JGONE", 4).await, 503);
    let (status, text) = relay.admin_get("/readyz").await;
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("relay.db was deleted or moved") && text.contains("relay.db.recovered-"),
        "{text}"
    );
    let (_, page) = relay.admin_get("/").await;
    assert!(
        page.contains("Not accepting events:</strong> the database file"),
        "{page}"
    );
    relay.stop().await;
    drop(relay);

    // The next start refuses to create an empty database in its place.
    let err = refused(&dir, false).await.unwrap_err();
    assert!(
        err.contains("relay.db is missing") && err.contains("--start-empty"),
        "{err}"
    );
    assert!(!dir.join("relay.db").exists(), "nothing created");

    // The copy the relay made when it noticed goes back in place, as its message says (the
    // deleted database's WAL files go: what they held is in the copy).
    let copy = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("relay.db.recovered-")
        })
        .expect("the rescue copy")
        .path();
    for stale in ["relay.db-wal", "relay.db-shm"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    std::fs::rename(&copy, dir.join("relay.db")).unwrap();
    let mut relay = TestRelay::start_in(dir.clone(), &output).await;
    // Kick sends the 503'd deliveries again: the first was in the copy (a duplicate, and sent
    // now from its pending row), the second was never stored.
    assert_eq!(
        relay.post(&numbered(3), "custom.event", b"{\"n\":3}").await,
        (200, "duplicate".into())
    );
    assert_eq!(relay.post_numbered("01JGONE", 4).await, 200);
    assert_eq!(
        relay.post(&numbered(0), "custom.event", b"{\"n\":0}").await,
        (200, "duplicate".into()),
        "acknowledged before the deletion: still remembered"
    );
    sink.wait_for(5, Duration::from_secs(10)).await;
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 5",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(ids(&sink), (0..5).map(numbered).collect::<Vec<_>>());
    relay.stop().await;
    drop(relay);

    // Deleted while stopped (the WAL folded in and gone): the marker still tells.
    std::fs::remove_file(dir.join("relay.db")).unwrap();
    let err = refused(&dir, false).await.unwrap_err();
    assert!(err.contains("relay.db.id"), "{err}");
    // An operator who means it starts empty.
    refused(&dir, true).await.expect("--start-empty starts");
    assert!(dir.join("relay.db").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_sqlite_file_is_refused_at_start() {
    let dir = TestRelay::fresh_dir();
    let mut relay = TestRelay::start_in(dir.clone(), "").await;
    assert_eq!(relay.post_numbered("01JSWAP", 0).await, 200);
    relay.stop().await;
    drop(relay);
    let kept = dir.join("kept.db");
    std::fs::rename(dir.join("relay.db"), &kept).unwrap();
    // Another database put in its place (a fresh relay's, in another folder).
    let other = TestRelay::fresh_dir();
    let mut relay = TestRelay::start_in(other.clone(), "").await;
    relay.stop().await;
    drop(relay);
    std::fs::copy(other.join("relay.db"), dir.join("relay.db")).unwrap();
    let err = refused(&dir, false).await.unwrap_err();
    assert!(err.contains("is not the one this relay served"), "{err}");
    std::fs::rename(&kept, dir.join("relay.db")).unwrap();
    refused(&dir, false)
        .await
        .expect("the right file back: it starts");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_dropped_and_created_again_is_noticed() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut relay = TestRelay::start_on_database(&url, "").await;
    assert_eq!(relay.post_numbered("01JDROP", 0).await, 200);
    let (status, _) = relay.admin_get("/readyz").await;
    assert_eq!(status, 200);

    cluster.psql("postgres", &format!("DROP DATABASE {name} WITH (FORCE)"));
    cluster.psql("postgres", &format!("CREATE DATABASE {name}"));
    // Another replica starting on it makes the schema again (with a new id).
    let mut other = TestRelay::start_on_database(&url, "").await;
    // Noticed within a few seconds (each replica looks every 2 s, and at each /readyz that
    // is not answered from its last second's look).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let (status, text) = relay.admin_get("/readyz").await;
        if status == 503 {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "still ready: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains("dropped and created again"), "{text}");
    assert_eq!(relay.post_numbered("01JDROP", 1).await, 503);
    let (_, page) = relay.admin_get("/").await;
    assert!(page.contains("Not accepting events:"), "{page}");
    other.stop().await;
    relay.stop().await;
}
