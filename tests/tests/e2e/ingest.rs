//! Ingest: every event accepted and stored once; bad requests refused and nothing stored.

use std::time::Duration;

use relay_tests::{Reply, StandIn, TestRelay};

use crate::signed_delivery::official_payloads;

fn raw_output(url: &str) -> String {
    format!(
        "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{url}\"\nretry_schedule_secs = [1, 1, 1]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_duplicate_subscription_copies_are_relayed_once() {
    let sink = StandIn::always(Reply::status(204)).await;
    let mut relay = TestRelay::start(&format!(
        "{}max_in_flight = 1\n",
        raw_output(&sink.url("/hook"))
    ))
    .await;
    let (_, chat) = official_payloads().remove(0);
    assert_eq!(
        relay
            .post("01JTESTDUP000000000000001", "chat.message.sent", &chat)
            .await,
        (200, "accepted".into())
    );
    assert_eq!(
        relay
            .post("01JTESTDUP000000000000001", "chat.message.sent", &chat)
            .await,
        (200, "duplicate".into()),
        "same message id"
    );
    assert_eq!(
        relay
            .post("01JTESTDUP000000000000002", "chat.message.sent", &chat)
            .await,
        (200, "duplicate".into()),
        "a duplicate subscription's copy: new id, same chat message id"
    );
    let follow = official_payloads().remove(1).1;
    assert_eq!(
        relay
            .post_from(
                "SUB-A",
                "01JTESTDUP000000000000003",
                "channel.followed",
                &follow
            )
            .await
            .1,
        "accepted"
    );
    assert_eq!(
        relay
            .post_from(
                "SUB-B",
                "01JTESTDUP000000000000004",
                "channel.followed",
                &follow
            )
            .await
            .1,
        "duplicate",
        "the same body from another subscription, seconds later: a duplicate subscription's copy"
    );
    // A later, distinct event: once it has arrived (in order: max_in_flight = 1), everything
    // before it that was going to be sent has been.
    let marker = br#"{"marker":true}"#;
    assert_eq!(
        relay
            .post("01JTESTDUP000000000000005", "channel.raid.started", marker)
            .await
            .1,
        "accepted"
    );
    let received = sink.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 3, "each event exactly once: {received:?}");
    assert_eq!(
        received.last().unwrap().headers["webhook-id"],
        "01JTESTDUP000000000000005"
    );
    let metrics = relay.metrics().await;
    assert_eq!(
        relay_tests::metric(&metrics, "kick_relay_requests_total{outcome=\"duplicate\"}"),
        3
    );
    assert_eq!(relay_tests::metric(&metrics, "kick_relay_inbox_rows"), 3);
    relay.stop().await;
}

/// A viewer who follows again, or a title changed A → B → A, sends a body Kick sent before:
/// from the same subscription it is a new event, never a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_from_the_same_subscription_is_a_new_event() {
    let sink = StandIn::always(Reply::status(204)).await;
    let mut relay = TestRelay::start(&raw_output(&sink.url("/hook"))).await;
    let follow = official_payloads().remove(1).1;
    let title = |t: &str| {
        serde_json::to_vec(&serde_json::json!({
            "broadcaster": { "user_id": 1, "username": "streamer", "is_verified": true,
                             "profile_picture": "", "channel_slug": "streamer" },
            "metadata": { "title": t, "language": "en", "has_mature_content": false }
        }))
        .unwrap()
    };
    let sends: Vec<(&str, Vec<u8>)> = vec![
        ("channel.followed", follow.clone()),
        ("channel.followed", follow),
        ("livestream.metadata.updated", title("A")),
        ("livestream.metadata.updated", title("B")),
        ("livestream.metadata.updated", title("A")),
    ];
    for (i, (event_type, body)) in sends.iter().enumerate() {
        let id = format!("01JTESTREPEAT00000000000{i:02}");
        assert_eq!(
            relay.post(&id, event_type, body).await,
            (200, "accepted".into()),
            "send {i}: {event_type}"
        );
    }
    let received = sink.wait_for(5, Duration::from_secs(10)).await;
    let mut ids: Vec<String> = received
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let expected: Vec<String> = (0..5)
        .map(|i| format!("01JTESTREPEAT00000000000{i:02}"))
        .collect();
    assert_eq!(ids, expected);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_right_status_and_store_nothing() {
    let sink = StandIn::always(Reply::status(204)).await;
    let mut relay = TestRelay::start(&raw_output(&sink.url("/hook"))).await;
    let body = official_payloads().remove(0).1;
    let now = relay_tests::now_rfc3339();
    let good = relay.signer.headers(
        "01JBAD0000000000000000000A",
        &now,
        "chat.message.sent",
        &body,
    );

    let mut tampered = body.clone();
    tampered[5] ^= 1;
    assert_eq!(
        relay.post_with(&good, tampered).await,
        (400, "bad signature".into())
    );

    let stale = relay.signer.headers(
        "01JBAD0000000000000000000B",
        "2020-01-01T00:00:00Z",
        "chat.message.sent",
        &body,
    );
    let (status, text) = relay.post_with(&stale, body.clone()).await;
    assert_eq!(status, 400);
    assert!(text.contains("stale"), "{text}");

    let mut missing = good.clone();
    missing.retain(|(name, _)| *name != "Kick-Event-Signature");
    assert_eq!(
        relay.post_with(&missing, body.clone()).await,
        (400, "missing header Kick-Event-Signature".into())
    );

    let mut malformed = good.clone();
    malformed[2].1 = "not base64!".into();
    assert_eq!(relay.post_with(&malformed, body.clone()).await.0, 400);

    let big = vec![b' '; 1024 * 1024 + 1];
    let big_headers = relay.signer.headers(
        "01JBAD0000000000000000000C",
        &now,
        "chat.message.sent",
        &big,
    );
    assert_eq!(relay.post_with(&big_headers, big).await.0, 413);

    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(relay.webhook_url())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        405
    );
    assert_eq!(
        client
            .put(relay.webhook_url())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        405
    );
    let other_path = relay.webhook_url().replace("/webhooks/kick", "/metrics");
    assert_eq!(
        client
            .get(other_path)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404,
        "admin routes are not on the public listener"
    );

    let metrics = relay.metrics().await;
    assert_eq!(
        relay_tests::metric(&metrics, "kick_relay_inbox_rows"),
        0,
        "nothing stored:\n{metrics}"
    );
    // Nothing in the inbox means no outbox row either: there is nothing to send.
    assert!(!metrics.contains("kick_relay_outbox_rows{"), "{metrics}");
    assert!(sink.received().is_empty());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_on_the_admin_listener() {
    let mut relay = TestRelay::start("").await;
    assert_eq!(
        reqwest::get(relay.admin_url("/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let ready = reqwest::get(relay.admin_url("/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    assert!(
        ready
            .text()
            .await
            .unwrap()
            .contains("database (sqlite) writable")
    );
    let metrics = relay.metrics().await;
    assert!(
        metrics.contains("# TYPE kick_relay_requests_total counter"),
        "{metrics}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purges_old_inbox_rows_and_finished_deliveries() {
    let sink = StandIn::always(Reply::status(204)).await;
    let dir = TestRelay::fresh_dir();
    let mut relay = TestRelay::start_in(dir.clone(), &raw_output(&sink.url("/hook"))).await;
    let (_, chat) = official_payloads().remove(0);
    assert_eq!(
        relay
            .post("01JRETAIN00000000000000001", "chat.message.sent", &chat)
            .await
            .1,
        "accepted"
    );
    sink.wait_for(1, Duration::from_secs(10)).await;
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 1",
            Duration::from_secs(10),
        )
        .await;
    relay.stop().await;

    // Restart two days later with a one-day window: the purge at start removes the old inbox
    // row and the delivered outbox row; with a 7-day window (the default) both would stay.
    let clock = relay_tests::TestClock::default();
    clock.advance(Duration::from_hours(48));
    let mut relay = TestRelay::start_in_with_clock(
        dir.clone(),
        clock.clock(),
        &format!("retention_days = 1\n{}", raw_output(&sink.url("/hook"))),
    )
    .await;
    // The purge runs in the background at start: wait for its effect, do not guess its time.
    relay
        .wait_for_metric("kick_relay_inbox_rows 0\n", Duration::from_secs(10))
        .await;
    let metrics = relay.metrics().await;
    assert!(!metrics.contains("status=\"delivered\""), "{metrics}");
    relay.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The window of a duplicate subscription's copy, with the relay's clock moved instead of
/// waiting 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_from_another_subscription_after_the_window_is_a_new_event() {
    let clock = relay_tests::TestClock::default();
    let mut relay = TestRelay::start_with_clock(clock.clock(), "").await;
    let follow = official_payloads().remove(1).1;
    let post = |sub: &'static str, id: &'static str| {
        let (relay, follow) = (&relay, &follow);
        async move { relay.post_from(sub, id, "channel.followed", follow).await.1 }
    };
    assert_eq!(
        post("SUB-A", "01JWINDOW00000000000000001").await,
        "accepted"
    );
    clock.advance(Duration::from_secs(29));
    assert_eq!(
        post("SUB-B", "01JWINDOW00000000000000002").await,
        "duplicate"
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        post("SUB-B", "01JWINDOW00000000000000003").await,
        "accepted",
        "31 s after the first: not a copy any more"
    );
    assert_eq!(
        post("SUB-C", "01JWINDOW00000000000000004").await,
        "duplicate"
    );
    relay.stop().await;
}

/// On SQLite a body key is held in the writer's memory for its 30 s, not in the database's
/// index: a restart between a delivery and a duplicate subscription's copy of it must not
/// forget it (the keys are read back from the log's last 30 s), and the window still ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_copies_keeps_the_window() {
    let dir = TestRelay::fresh_dir();
    let clock = relay_tests::TestClock::default();
    let follow = official_payloads().remove(1).1;
    // A relay started on the same database posts the follow from `subscription`, then stops.
    let post_in_a_fresh_relay = |subscription: &'static str, id: &'static str| {
        let (dir, clock, follow) = (dir.clone(), clock.clone(), &follow);
        async move {
            let mut relay = TestRelay::start_in_with_clock(dir, clock.clock(), "").await;
            let answer = relay
                .post_from(subscription, id, "channel.followed", follow)
                .await
                .1;
            relay.stop().await;
            answer
        }
    };
    assert_eq!(
        post_in_a_fresh_relay("SUB-A", "01JRESTART0000000000000001").await,
        "accepted"
    );
    clock.advance(Duration::from_secs(20));
    assert_eq!(
        post_in_a_fresh_relay("SUB-B", "01JRESTART0000000000000002").await,
        "duplicate",
        "20 s later, after a restart: still a duplicate subscription's copy"
    );
    clock.advance(Duration::from_secs(11));
    assert_eq!(
        post_in_a_fresh_relay("SUB-C", "01JRESTART0000000000000003").await,
        "accepted",
        "31 s after the first: a new event"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
