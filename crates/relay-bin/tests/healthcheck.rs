//! `kick-relay healthcheck` against the real binary: 0 with the answer when the relay is
//! ready, 1 with the reason when nothing listens or the relay is not ready (its database
//! deleted under it), 2 for a configuration it cannot ask from.

#![allow(clippy::unwrap_used, missing_docs)]

use std::process::{Command, Output};

mod common;

use common::{BIN, dir_with_keys, free_port, serve, terminate, wait_healthy, write_relay_toml};

fn healthcheck(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--config", "relay.toml", "healthcheck"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_says_ready_or_why_not() {
    let dir = dir_with_keys("healthcheck");
    let (public, admin) = (free_port(), free_port());
    write_relay_toml(&dir, public, admin, "");

    let before = healthcheck(&dir, &[]);
    assert_eq!(before.status.code(), Some(1), "{before:?}");
    let stderr = text(&before.stderr);
    assert!(
        stderr.contains(&format!("http://127.0.0.1:{admin}/readyz"))
            && stderr.contains("nothing listens there"),
        "{stderr}"
    );

    let mut relay = serve(&dir);
    wait_healthy(admin).await;
    let ready = healthcheck(&dir, &[]);
    assert_eq!(ready.status.code(), Some(0), "{ready:?}");
    assert!(
        text(&ready.stdout).starts_with("ready: database (sqlite) writable"),
        "{ready:?}"
    );
    let by_url = healthcheck(
        &dir,
        &["--url", &format!("http://127.0.0.1:{admin}/readyz")],
    );
    assert_eq!(by_url.status.code(), Some(0), "{by_url:?}");

    // The database deleted under the running relay: not ready, and the reason says so.
    // (`/readyz` reuses a success for a second: ask until the relay has looked again.)
    std::fs::remove_file(dir.join("relay.db")).unwrap();
    let mut lost = healthcheck(&dir, &[]);
    for _ in 0..50 {
        if lost.status.code() != Some(0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        lost = healthcheck(&dir, &[]);
    }
    assert_eq!(lost.status.code(), Some(1), "{lost:?}");
    let stderr = text(&lost.stderr);
    assert!(
        stderr.contains("503") && stderr.contains("not ready: database not writable"),
        "{stderr}"
    );
    terminate(&mut relay);
}

#[test]
fn a_configuration_without_an_address_to_ask_is_a_usage_error() {
    let dir = dir_with_keys("healthcheck-port-0");
    write_relay_toml(&dir, free_port(), 0, "");
    let out = healthcheck(&dir, &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("port 0"), "{out:?}");
    let out = healthcheck(&dir, &["--url", "127.0.0.1:9091/readyz"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr).contains("is not an http:// URL"),
        "{out:?}"
    );
}
