//! The manual's own admin API examples (crates/relay-bin/README.md), run as written with curl
//! and jq against a real relay, so that they cannot drift from what the relay answers.

use std::{process::Command, time::Duration};

use relay_tests::{Reply, StandIn, TestRelay};

const TOKEN: &str = "0123456789abcdef-readme";

/// The `sh` block that follows `after` in the relay's README, one command per entry (lines
/// ending in `\` joined).
fn sh_block_after(after: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/relay-bin/README.md"),
    )
    .unwrap();
    let from = readme.find(after).expect("the README's sentence");
    let block = readme[from..]
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a sh block after it")
        .0;
    block
        .replace("\\\n", " ")
        .lines()
        .map(str::to_owned)
        .filter(|line| !line.trim().is_empty())
        .collect()
}

/// Runs `command` with `sh`, the admin listener's default address replaced by the relay's.
fn run(command: &str, admin: &str) -> String {
    for tool in ["curl", "jq"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "the README's examples need {tool}: install it (.ci/run does)"
        );
    }
    let output = Command::new("sh")
        .args(["-c", &command.replace("127.0.0.1:9091", admin)])
        .env("KICK_RELAY_ADMIN_TOKEN", TOKEN)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_examples_work_as_written() {
    // The output refuses the first delivery for good (a dead letter), then takes everything.
    let discord = StandIn::scripted(|n| {
        if n == 1 {
            Reply::status(400).body(r#"{"message": "Cannot send an empty message", "code": 50006}"#)
        } else {
            Reply::status(200).body("{}")
        }
    })
    .await;
    let relay = TestRelay::start_with_admin_token(
        TOKEN,
        &format!(
            "[[output]]\nname = \"discord-chat\"\ntype = \"discord\"\nurl = \"{}\"\n",
            discord.url("/api/webhooks/1/tok")
        ),
    )
    .await;
    let follow = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/kick/payloads/channel.followed.v1.json"),
    )
    .unwrap();
    let (status, _) = relay
        .post("01JREADME00000000000000001", "channel.followed", &follow)
        .await;
    assert_eq!(status, 200);
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"discord-chat\",status=\"dead\"} 1",
            Duration::from_secs(20),
        )
        .await;

    let admin = relay.admin_url("").trim_start_matches("http://").to_owned();
    let commands = sh_block_after("Actions answer JSON");
    assert_eq!(commands.len(), 2, "{commands:?}");
    let status: serde_json::Value = serde_json::from_str(&run(&commands[0], &admin)).unwrap();
    assert_eq!(status["name"], "discord-chat", "{status}");
    assert_eq!(status["state"], "active", "{status}");
    let replayed = run(&commands[1], &admin);
    let answer: serde_json::Value = serde_json::from_str(&replayed)
        .unwrap_or_else(|err| panic!("a JSON answer, not {replayed:?}: {err}"));
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("queued 1")),
        "{answer}"
    );
    discord.wait_for(2, Duration::from_secs(20)).await;
}
