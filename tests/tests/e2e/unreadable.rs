//! Deliveries the relay cannot read, as Kick may send them on a bad day or after a change:
//! a raw output still carries what Kick signed (and a replay of it succeeds), and a Discord
//! output counts them as skipped, saying why, instead of falling silent.

use std::time::Duration;

use relay_tests::{KickSigner, Reply, StandIn, TestRelay, now_rfc3339};
use serde_json::Value;

const TOKEN: &str = "0123456789abcdef-unreadable";

/// Posts `body` as `event_type` version `version`, signed with the test key.
async fn post(relay: &TestRelay, id: &str, event_type: &str, version: &str, body: &[u8]) {
    let mut headers = KickSigner::test_key().headers(id, &now_rfc3339(), event_type, body);
    for (name, value) in &mut headers {
        if *name == "Kick-Event-Version" {
            version.clone_into(value);
        }
    }
    let (status, text) = relay.post_with(&headers, body.to_vec()).await;
    assert_eq!((status, text.as_str()), (200, "accepted"), "{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_bodies_reach_raw_outputs_and_are_counted_on_discord() {
    let discord = StandIn::always(Reply::status(200).body("{}")).await;
    // The raw receiver refuses the first request (a dead letter), then takes everything.
    let raw = StandIn::scripted(|n| {
        if n == 1 {
            Reply::status(400)
        } else {
            Reply::status(204)
        }
    })
    .await;
    let relay = TestRelay::start_with_admin_token(
        TOKEN,
        &format!(
            "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{}\"\n\
             [[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\nmax_in_flight = 1\n",
            discord.url("/api/webhooks/1/tok"),
            raw.url("/raw"),
        ),
    )
    .await;
    let chat = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/kick/payloads/chat.message.sent.v1.json"),
    )
    .unwrap();
    post(
        &relay,
        "01JUNREAD0000000000000001",
        "kicks.gifted",
        "1",
        b"not json {",
    )
    .await;
    post(
        &relay,
        "01JUNREAD0000000000000002",
        "kicks.gifted",
        "1",
        b"\xff\xfe\x00k",
    )
    .await;
    post(
        &relay,
        "01JUNREAD0000000000000003",
        "chat.message.sent",
        "2",
        &chat,
    )
    .await;

    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"dead\"} 1",
            Duration::from_secs(20),
        )
        .await;
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 2",
            Duration::from_secs(20),
        )
        .await;
    // The dead letter (the body that is not JSON) is replayed, and this time it goes out.
    let replayed = reqwest::Client::new()
        .post(relay.admin_url("/api/outputs/raw/replay"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status().as_u16(), 200);
    let got = raw.wait_for(4, Duration::from_secs(20)).await;
    let bodies: Vec<Value> = got.iter().map(relay_tests::Received::json).collect();
    assert_eq!(bodies[0], bodies[3], "the replay sends the same envelope");
    for (body, encoding, carried) in [
        (&bodies[0], "utf-8", "not json {"),
        (&bodies[1], "base64", "//4Aaw=="),
    ] {
        assert_eq!(body["hook_type"], "kick:kicks.gifted", "{body}");
        assert_eq!(body["event"], Value::Null, "{body}");
        assert_eq!(body["body_encoding"], encoding, "{body}");
        assert_eq!(body["body"], carried, "{body}");
    }
    assert_eq!(bodies[2]["hook_type"], "kick:chat.message.sent");
    assert_eq!(bodies[2]["version"], "2");
    assert!(
        bodies[2]["event"]["content"]
            .as_str()
            .is_some_and(|text| text.starts_with("Hello ")),
        "Kick's payload as sent: {}",
        bodies[2]
    );

    discord_counts_them_as_skipped(&relay, &discord).await;
}

/// Discord sent nothing for the three, and says so: three skipped rows, each with its reason.
async fn discord_counts_them_as_skipped(relay: &TestRelay, discord: &StandIn) {
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"discord\",status=\"skipped\"} 3",
            Duration::from_secs(20),
        )
        .await;
    assert!(discord.received().is_empty());
    let (status, listed) = relay
        .admin_get("/api/deliveries?output=discord&status=skipped")
        .await;
    assert_eq!(status, 200, "{listed}");
    assert!(
        listed.contains("chat.message.sent version 2 (this relay reads version 1)"),
        "{listed}"
    );
    assert!(
        listed.contains("no Discord message for kicks.gifted version 1: "),
        "{listed}"
    );
}
