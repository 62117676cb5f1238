//! Drops claims: Kick sends a claimed reward of a Drops campaign to the organisation's URL with
//! headers of its own (`Kick-Event-Message-ID`, `Kick-Event-Timestamp`, `Kick-Event-Signature`;
//! no type or version). The relay takes it at the webhook path, verifies it, stores it once
//! (a repeated claim id is a duplicate, also under a new message id) and relays it to the raw
//! and forward outputs that select `drops.claimed`, and to no other.

use std::time::Duration;

use relay_tests::{Reply, StandIn, TestRelay, metric, now_rfc3339};

/// The docs' example claim.
const CLAIM: &str = r#"{"claim_id":"01JZ8N1V3YQJ8ZC1ZSNH2FE5KX","user_id":123456,"campaign_id":"01JZ8MZ6YJ0ZQ4WXTN4WB8X3RB","reward_id":"01JZ8N0BR3J8QF0K5W9P8N8X1D","external_id":"sword-of-kick"}"#;

fn drops_headers(relay: &TestRelay, message_id: &str, body: &str) -> Vec<(&'static str, String)> {
    let timestamp = now_rfc3339();
    vec![
        ("Kick-Event-Message-ID", message_id.to_owned()),
        ("Kick-Event-Timestamp", timestamp.clone()),
        (
            "Kick-Event-Signature",
            relay.signer.sign(message_id, &timestamp, body.as_bytes()),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drops_claim_is_verified_stored_once_and_relayed_to_the_outputs_that_select_it() {
    let raw = StandIn::always(Reply::status(204)).await;
    let forward = StandIn::always(Reply::status(204)).await;
    let everything = StandIn::always(Reply::status(204)).await;
    let mut relay = TestRelay::start(&format!(
        "[[output]]\nname = \"claims\"\ntype = \"raw\"\nurl = \"{}\"\nevents = [\"drops.claimed\"]\n\
         [[output]]\nname = \"fulfil\"\ntype = \"forward\"\nurl = \"{}\"\nevents = [\"drops.claimed\"]\n\
         [[output]]\nname = \"streamer\"\ntype = \"raw\"\nurl = \"{}\"\n",
        raw.url("/claims"),
        forward.url("/fulfil"),
        everything.url("/all")
    ))
    .await;

    // A bad signature: 400, nothing stored.
    let mut forged = drops_headers(&relay, "01JDROPS000000000000000000", CLAIM);
    forged[2].1 = relay
        .signer
        .sign("another", &now_rfc3339(), CLAIM.as_bytes());
    assert_eq!(
        relay.post_with(&forged, CLAIM.into()).await,
        (400, "bad signature".into())
    );
    // A missing header is named.
    let mut missing = drops_headers(&relay, "01JDROPS000000000000000000", CLAIM);
    missing.remove(1);
    let (status, text) = relay.post_with(&missing, CLAIM.into()).await;
    assert_eq!(status, 400);
    assert!(
        text.contains("Kick-Event-Message-Timestamp") || text.contains("Kick-Event-Timestamp"),
        "{text}"
    );

    let headers = drops_headers(&relay, "01JDROPS000000000000000001", CLAIM);
    assert_eq!(
        relay.post_with(&headers, CLAIM.into()).await,
        (200, "accepted".into())
    );
    // Kick's retry (same message id), and the same claim under a new message id: 200, once.
    assert_eq!(
        relay.post_with(&headers, CLAIM.into()).await,
        (200, "duplicate".into())
    );
    let again = drops_headers(&relay, "01JDROPS000000000000000002", CLAIM);
    assert_eq!(
        relay.post_with(&again, CLAIM.into()).await,
        (200, "duplicate".into())
    );

    let got = raw.wait_for(1, Duration::from_secs(10)).await;
    let envelope = got[0].json();
    assert_eq!(envelope["hook_type"], "kick:drops.claimed", "{envelope}");
    assert_eq!(
        envelope["event"]["claim_id"], "01JZ8N1V3YQJ8ZC1ZSNH2FE5KX",
        "{envelope}"
    );
    let passed = forward.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        &passed[0].body[..],
        CLAIM.as_bytes(),
        "the body Kick signed"
    );
    for (name, value) in &headers {
        assert_eq!(passed[0].headers[*name].to_str().unwrap(), value, "{name}");
    }
    assert!(!passed[0].headers.contains_key("kick-event-type"));

    // A later event goes to the streamer's output; the claim never did.
    assert_eq!(relay.post_numbered("01JDROPSAFTER", 0).await, 200);
    everything.wait_for(1, Duration::from_secs(10)).await;
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"fulfil\",status=\"delivered\"} 1",
            Duration::from_secs(10),
        )
        .await;
    let metrics = relay.metrics().await;
    assert_eq!(
        metric(
            &metrics,
            "kick_relay_outbox_rows{output=\"claims\",status=\"delivered\"}"
        ),
        1
    );
    assert_eq!(metric(&metrics, "kick_relay_inbox_rows"), 2, "{metrics}");
    assert_eq!(raw.received().len(), 1);
    let streamer: Vec<String> = everything
        .received()
        .iter()
        .map(|r| {
            r.json()["hook_type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(streamer, ["kick:custom.event"]);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_output_cannot_select_drops_claims() {
    let dir = TestRelay::fresh_dir();
    let path = TestRelay::write_config(
        &dir,
        "[[output]]\nname = \"d\"\ntype = \"discord\"\nurl = \"https://discord.com/api/webhooks/1/t\"\nevents = [\"drops.claimed\"]\n",
    );
    let err = relay_bin::config::Config::load(Some(&path))
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not post Drops claims"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
