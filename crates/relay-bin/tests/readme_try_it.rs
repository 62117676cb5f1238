//! The manual's "Try it without Kick" recipe (crates/relay-bin/README.md), run line by line
//! with the real binary: a key pair, a config naming it, `serve`, and `send-test` signing with
//! the private key gets three deliveries accepted.
//!
//! Two things differ from a user's shell, both said here: the relay listens on free ports (the
//! recipe's defaults, 3000 and 9091, may be taken on a test machine), written into the config
//! after the recipe's own line and into `send-test`'s URL; and the test waits for `/healthz`
//! where a user would wait a moment before the last command.

#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

use std::process::{Command, Stdio};

mod common;

use common::{BIN, free_port, scratch_dir, terminate, wait_healthy};

/// The lines of the `sh` block after "Try it without Kick:" in the manual.
fn recipe() -> Vec<String> {
    let manual =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let from = manual
        .find("Try it without Kick:")
        .expect("the manual's recipe");
    manual[from..]
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a sh block after it")
        .0
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manuals_try_it_recipe_accepts_three_signed_deliveries() {
    let dir = scratch_dir("try-it");
    let (public, admin) = (free_port(), free_port());
    let lines = recipe();
    assert_eq!(
        lines.len(),
        4,
        "keygen, config, serve, send-test: {lines:?}"
    );
    let mut relay = None;
    let mut sent = String::new();
    for line in &lines {
        let command = line
            .strip_prefix("kick-relay ")
            .map_or_else(|| line.clone(), |rest| format!("{BIN} {rest}"))
            .replace("127.0.0.1:3000", &format!("127.0.0.1:{public}"));
        if let Some(background) = command.strip_suffix('&') {
            relay = Some(
                Command::new("sh")
                    .args(["-c", &format!("exec {}", background.trim())])
                    .current_dir(&*dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            wait_healthy(admin).await;
            continue;
        }
        let output = Command::new("sh")
            .args(["-c", &command])
            .current_dir(&*dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{line}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if line.starts_with("printf") {
            // The recipe's config, on this test's ports.
            let config = dir.join("dev.toml");
            let written = std::fs::read_to_string(&config).unwrap();
            std::fs::write(
                &config,
                format!(
                    "{written}[server]\nlisten = \"127.0.0.1:{public}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n"
                ),
            )
            .unwrap();
        }
        if line.contains("send-test") {
            sent = stdout;
        }
    }
    assert_eq!(sent.matches("200 accepted").count(), 3, "{sent}");
    let mut relay = relay.expect("the recipe starts the relay");
    terminate(&mut relay);
    assert!(
        dir.join("kick-relay.db").is_file(),
        "the relay kept its events in the default database beside the config"
    );
}
