//! Delivery: every event to Discord and Raw stand-ins, unknown events, several requests in
//! flight, recovery in order (after 500s, refused connections and timeouts, with
//! `max_in_flight = 1`), 429 waits, disabling on 404/10015, restart without loss.

use std::time::Duration;

use relay_tests::{Reply, StandIn, TestRelay};

use crate::signed_delivery::official_payloads;

fn outputs(discord: &str, raw: &str, forward: &str) -> String {
    format!(
        "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{discord}\"\nretry_schedule_secs = [1, 1, 1]\n\
         [[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{raw}\"\nretry_schedule_secs = [1, 1, 1]\n\
         [[output]]\nname = \"forward\"\ntype = \"forward\"\nurl = \"{forward}\"\nretry_schedule_secs = [1, 1, 1]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_ten_events_reach_discord_raw_and_forward_in_their_formats() {
    let discord = StandIn::always(Reply::status(200).body("{}")).await;
    let raw = StandIn::always(Reply::status(204)).await;
    let forward = StandIn::always(Reply::status(200)).await;
    let mut relay = TestRelay::start(&outputs(
        &discord.url("/api/webhooks/1/tok"),
        &raw.url("/raw"),
        &forward.url("/kick"),
    ))
    .await;
    let payloads = official_payloads();
    for (i, (event_type, body)) in payloads.iter().enumerate() {
        let (status, text) = relay
            .post(&format!("01JALL{i:020}"), event_type.as_str(), body)
            .await;
        assert_eq!((status, text.as_str()), (200, "accepted"), "{event_type}");
    }
    let unknown = br#"{"raid":{"viewers":3}}"#;
    assert_eq!(
        relay
            .post(
                "01JALLUNKNOWN0000000000000",
                "channel.raid.started",
                unknown
            )
            .await
            .1,
        "accepted"
    );

    let got_discord = discord.wait_for(10, Duration::from_secs(20)).await;
    // Raw and forward outputs have several requests in flight: their arrival order is not
    // Kick's. Put them back in message id order (the ids above sort in sending order).
    let by_header = |mut got: Vec<relay_tests::Received>, name: &str| {
        got.sort_by_key(|r| r.headers[name].to_str().unwrap().to_owned());
        got
    };
    let got_raw = by_header(
        raw.wait_for(11, Duration::from_secs(20)).await,
        "webhook-id",
    );
    let got_forward = by_header(
        forward.wait_for(11, Duration::from_secs(20)).await,
        "kick-event-message-id",
    );
    assert_eq!(
        got_discord.len(),
        10,
        "Discord gets the ten known events, not the unknown one"
    );
    assert_eq!(got_raw.len(), 11);
    assert_eq!(got_forward.len(), 11);

    for request in &got_discord {
        assert_eq!(request.uri.query(), Some("wait=true"));
        let json = request.json();
        assert_eq!(json["allowed_mentions"], serde_json::json!({ "parse": [] }));
        assert!(!json["content"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        got_discord[0].json()["username"],
        "sender_name @ Kick",
        "Kick's order is kept"
    );
    let hook_types: Vec<String> = got_raw
        .iter()
        .map(|r| r.json()["hook_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(hook_types[0], "comment:in");
    assert_eq!(hook_types[6], "stream:start");
    assert_eq!(hook_types[10], "kick:channel.raid.started");
    for ((event_type, body), request) in payloads.iter().zip(&got_forward) {
        assert_eq!(
            request.body.as_ref(),
            body.as_slice(),
            "{event_type} forwarded byte for byte"
        );
        assert_eq!(request.headers["kick-event-type"], event_type.as_str());
    }
    assert_eq!(got_forward[10].body.as_ref(), unknown);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_output_has_several_in_flight_and_retries_a_failure_without_repeating_others() {
    // Every answer takes 300 ms; the third request gets a 500.
    let raw = StandIn::scripted(|n| Reply {
        delay: Duration::from_millis(300),
        ..Reply::status(if n == 3 { 500 } else { 204 })
    })
    .await;
    let config = format!(
        "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\nmax_in_flight = 4\nretry_schedule_secs = [1, 1, 1]\n",
        raw.url("/raw")
    );
    let mut relay = TestRelay::start(&config).await;
    for i in 0..12 {
        let status = relay.post_numbered("01JWINDOW", i).await;
        assert_eq!(status, 200);
    }
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 12",
            Duration::from_secs(30),
        )
        .await;
    let received = raw.received();
    let n = |r: &relay_tests::Received| r.json()["event"]["n"].as_i64().unwrap();
    let refused = n(&received[2]);
    let mut got: Vec<i64> = received.iter().map(n).collect();
    got.sort_unstable();
    let mut expected: Vec<i64> = (0..12).chain([refused]).collect();
    expected.sort_unstable();
    assert_eq!(got, expected, "each event once, the refused one once more");
    let peak = raw.peak_in_flight();
    assert!(
        (2..=4).contains(&peak),
        "{peak} requests at once: several, never more than max_in_flight"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_output_gets_everything_in_order_after_it_recovers() {
    // Refuses the first four requests with 500, then takes everything.
    let raw = StandIn::scripted(|n| {
        if n <= 4 {
            Reply::status(500)
        } else {
            Reply::status(204)
        }
    })
    .await;
    let config = format!(
        "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\nmax_in_flight = 1\nretry_schedule_secs = [1, 1, 1, 1, 1, 1]\n",
        raw.url("/raw")
    );
    let mut relay = TestRelay::start(&config).await;
    // Unknown event types keep the test short: the raw output wraps them in its envelope.
    for i in 0..5 {
        let status = relay.post_numbered("01JORDER", i).await;
        assert_eq!(status, 200);
    }
    let received = raw.wait_for(9, Duration::from_secs(30)).await;
    let delivered: Vec<i64> = received[4..]
        .iter()
        .map(|r| r.json()["event"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        delivered,
        [0, 1, 2, 3, 4],
        "after recovery, in Kick's order"
    );
    assert!(
        received[..4].iter().all(|r| r.json()["event"]["n"] == 0),
        "the head was retried, nothing overtook it"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_429_waits_are_obeyed() {
    let discord = StandIn::scripted(|n| {
        if n == 1 {
            Reply::status(429).header("x-ratelimit-scope", "user").body(
                r#"{"message":"You are being rate limited.","retry_after":1.2,"global":false}"#,
            )
        } else {
            Reply::status(200).body("{}")
        }
    })
    .await;
    let config = format!(
        "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{}\"\n",
        discord.url("/api/webhooks/1/tok")
    );
    let mut relay = TestRelay::start(&config).await;
    let chat = official_payloads().remove(0).1;
    relay
        .post("01JRATE0000000000000000001", "chat.message.sent", &chat)
        .await;
    let received = discord.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(received.len(), 2, "retried after the 429");
    let metrics = relay.metrics().await;
    assert!(
        metrics
            .contains("kick_relay_attempts_total{output=\"discord\",outcome=\"rate_limited\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kick_relay_attempts_total{output=\"discord\",outcome=\"delivered\"} 1"),
        "{metrics}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_webhook_10015_disables_the_output() {
    let discord =
        StandIn::always(Reply::status(404).body(r#"{"message":"Unknown Webhook","code":10015}"#))
            .await;
    let config = format!(
        "[[output]]\nname = \"gone\"\ntype = \"discord\"\nurl = \"{}\"\n",
        discord.url("/api/webhooks/1/tok")
    );
    let mut relay = TestRelay::start(&config).await;
    let chat = official_payloads().remove(0).1;
    relay
        .post("01JGONE0000000000000000001", "chat.message.sent", &chat)
        .await;
    discord.wait_for(1, Duration::from_secs(10)).await;
    relay
        .wait_for_metric(
            "kick_relay_output_disabled{output=\"gone\"} 1",
            Duration::from_secs(10),
        )
        .await;
    let follow = official_payloads().remove(1).1;
    assert_eq!(
        relay
            .post("01JGONE0000000000000000002", "channel.followed", &follow)
            .await
            .1,
        "accepted",
        "Kick is still answered 200"
    );
    // The follow is recorded as skipped: the relay has decided, and sent nothing.
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"gone\",status=\"skipped\"} 2",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        discord.received().len(),
        1,
        "nothing more is sent to a disabled output"
    );
    let metrics = relay.metrics().await;
    assert!(
        metrics.contains("kick_relay_output_disabled{output=\"gone\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kick_relay_outbox_rows{output=\"gone\",status=\"skipped\"} 2"),
        "both kept as skipped, replayable:\n{metrics}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_events_survive_a_restart_and_are_delivered() {
    // The output is down while the relay runs; after a restart with it up, everything arrives.
    let dir = TestRelay::fresh_dir();
    let down_addr = format!("127.0.0.1:{}", relay_tests::free_port());
    let config = |url: &str| {
        format!(
            "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{url}\"\nmax_in_flight = 1\nretry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1]\n"
        )
    };
    let mut first =
        TestRelay::start_in(dir.clone(), &config(&format!("http://{down_addr}/raw"))).await;
    for i in 0..3 {
        assert_eq!(first.post_numbered("01JRESTART", i).await, 200);
    }
    first.stop().await;
    let raw = StandIn::always(Reply::status(204)).await;
    let mut second = TestRelay::start_in(dir.clone(), &config(&raw.url("/raw"))).await;
    let received = raw.wait_for(3, Duration::from_secs(15)).await;
    let order: Vec<i64> = received
        .iter()
        .map(|r| r.json()["event"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [0, 1, 2]);
    second.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_that_refuses_connections_then_times_out_gets_everything_after_it_recovers() {
    // The receiver is down (connection refused); when it comes up, its first two answers take
    // longer than the output's timeout; then it answers at once.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], relay_tests::free_port()));
    let config = format!(
        "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"http://{addr}/raw\"\nmax_in_flight = 1\ntimeout_secs = 1\nretry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    );
    let mut relay = TestRelay::start(&config).await;
    for i in 0..3 {
        let status = relay.post_numbered("01JDOWN", i).await;
        assert_eq!(status, 200);
    }
    // Wait for two refused attempts (counted as retries).
    relay
        .wait_for_metric(
            "kick_relay_attempts_total{output=\"raw\",outcome=\"retry\"} 2",
            Duration::from_secs(20),
        )
        .await;
    let raw = StandIn::scripted_on(addr, |n| Reply {
        delay: if n <= 2 {
            Duration::from_secs(3)
        } else {
            Duration::ZERO
        },
        ..Reply::status(204)
    })
    .await;
    let received = raw.wait_for(5, Duration::from_secs(30)).await;
    let order: Vec<i64> = received
        .iter()
        .map(|r| r.json()["event"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        order,
        [0, 0, 0, 1, 2],
        "the head retried through the timeouts, then everything in Kick's order"
    );
    // The last outcome may still be on its way to the store.
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 3",
            Duration::from_secs(10),
        )
        .await;
    relay.stop().await;
}

/// A sender's name as a Discord line shows it (markdown escaped).
fn escaped_name(name: &str) -> String {
    name.replace('_', "\\_")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_bucket_headers_and_a_burst_of_429s_are_obeyed_in_order() {
    // 1st answer: 200 with an empty bucket for 1 s; 2nd and 3rd: 429 (the webhook's bucket)
    // with retry_after 0.5 s; then 200. Messages 1 and 2 wait for the bucket together and go
    // out as one Discord message.
    let discord = StandIn::scripted(|n| match n {
        1 => Reply::status(200)
            .body("{}")
            .header("x-ratelimit-limit", "5")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset-after", "1.000")
            .header("x-ratelimit-bucket", "abcd"),
        2 | 3 => Reply::status(429)
            .header("x-ratelimit-scope", "user")
            .header("retry-after", "1")
            .body(r#"{"message":"You are being rate limited.","retry_after":0.5,"global":false}"#),
        _ => Reply::status(200).body("{}"),
    })
    .await;
    let config = format!(
        "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{}\"\n",
        discord.url("/api/webhooks/1/tok")
    );
    let mut relay = TestRelay::start(&config).await;
    let chat: serde_json::Value = serde_json::from_slice(&official_payloads().remove(0).1).unwrap();
    for i in 0..3 {
        let mut chat = chat.clone();
        chat["message_id"] = format!("bucket-chat-{i}").into();
        chat["content"] = format!("message number {i}").into();
        let (status, _) = relay
            .post(
                &format!("01JBUCKET{i:017}"),
                "chat.message.sent",
                &serde_json::to_vec(&chat).unwrap(),
            )
            .await;
        assert_eq!(status, 200);
    }
    let received = discord.wait_for(4, Duration::from_secs(30)).await;
    let contents: Vec<String> = received
        .iter()
        .map(|r| r.json()["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contents.len(), 4, "{contents:?}");
    assert_eq!(contents[0], "message number 0");
    let combined = format!(
        "**{name}**: message number 1\n**{name}**: message number 2",
        name = escaped_name(chat["sender"]["username"].as_str().unwrap())
    );
    assert_eq!(
        contents[1..],
        [combined.clone(), combined.clone(), combined],
        "retried twice, in order"
    );
    // Lower bounds only (a slow machine only widens the gaps): no request before the bucket
    // reset or a 429's wait. The 429's Retry-After header (1 s) is rounded up by Discord; the
    // body's retry_after (0.5 s) is the precise one.
    let gap = |i: usize| received[i].at.duration_since(received[i - 1].at);
    assert!(
        gap(1) >= Duration::from_millis(950),
        "bucket reset: {:?}",
        gap(1)
    );
    assert!(
        gap(2) >= Duration::from_millis(450),
        "429 wait: {:?}",
        gap(2)
    );
    assert!(
        gap(3) >= Duration::from_millis(450),
        "429 wait: {:?}",
        gap(3)
    );
    relay.stop().await;
}

/// `max_age_secs`: an event the output could not take in time is given up as expired, with
/// the relay's clock moved instead of waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_older_than_max_age_is_expired_not_sent() {
    let down = StandIn::always(Reply::status(500)).await;
    let clock = relay_tests::TestClock::default();
    let mut relay = TestRelay::start_with_clock(
        clock.clock(),
        &format!(
            "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\nmax_age_secs = 60\nretry_schedule_secs = [1, 1, 1, 1, 1]\n",
            down.url("/raw")
        ),
    )
    .await;
    let body = br#"{"raid":{"viewers":3}}"#;
    assert_eq!(
        relay
            .post("01JEXPIRE00000000000000001", "channel.raid.started", body)
            .await
            .1,
        "accepted"
    );
    down.wait_for(1, Duration::from_secs(10)).await;
    clock.advance(Duration::from_secs(61));
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"expired\"} 1",
            Duration::from_secs(10),
        )
        .await;
    let sent = down.received().len();
    assert!(sent <= 2, "at most the retry already due was sent: {sent}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_falls_behind_its_feed_sends_the_rest_from_the_store_once_each() {
    // The second request is answered only when the test says: with one in flight the worker
    // is stuck on it while far more events than its feed holds
    // (relay_bin::store::FEED_CAPACITY) are committed, so the feed overflows and the worker
    // must read the rest from the store.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let held = std::sync::Arc::clone(&gate);
    let raw = StandIn::scripted(move |n| Reply {
        gate: (n == 2).then(|| std::sync::Arc::clone(&held)),
        ..Reply::status(204)
    })
    .await;
    let config = format!(
        "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\nmax_in_flight = 1\ntimeout_secs = 300\n",
        raw.url("/raw")
    );
    let relay = std::sync::Arc::new(TestRelay::start(&config).await);
    let post = |relay: std::sync::Arc<TestRelay>, i: usize| async move {
        let status = relay.post_numbered("01JFEED", i).await;
        assert_eq!(status, 200, "event {i}");
    };
    // The worker is in step with its feed once the first event went out.
    post(std::sync::Arc::clone(&relay), 0).await;
    raw.wait_for(1, Duration::from_secs(10)).await;
    post(std::sync::Arc::clone(&relay), 1).await;
    let total = relay_bin::store::FEED_CAPACITY + 300;
    let mut posts = tokio::task::JoinSet::new();
    for lane in 0..16 {
        let relay = std::sync::Arc::clone(&relay);
        posts.spawn(async move {
            for i in (2 + lane..total).step_by(16) {
                post(std::sync::Arc::clone(&relay), i).await;
            }
        });
    }
    while let Some(done) = posts.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        raw.received().len(),
        2,
        "the held request was still in flight while the feed overflowed"
    );
    gate.add_permits(1);
    let received = raw.wait_for(total, Duration::from_mins(1)).await;
    let mut seen: Vec<i64> = received
        .iter()
        .map(|r| r.json()["event"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(&seen[..2], [0, 1]);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), total, "every event once, none lost");
    replay_delivered_from_another_process(&relay, &raw, total).await;
    let mut relay = std::sync::Arc::try_unwrap(relay).unwrap_or_else(|_| panic!("posts done"));
    relay.stop().await;
}

/// An operator replays the oldest delivered rows from another process (as the CLI does): the
/// worker, in step with its feed again, sees the store's count of requeues change and reads
/// the queue from its head. Exactly the replayed rows go out again, nothing else.
async fn replay_delivered_from_another_process(relay: &TestRelay, raw: &StandIn, total: usize) {
    let operator = relay_bin::store::Store::open(
        &format!("sqlite://{}", relay.dir.join("relay.db").display()),
        relay_bin::store::Synchronous::Full,
    )
    .await
    .unwrap();
    let delivered = operator
        .list(
            Some("raw"),
            Some(relay_bin::store::Status::Delivered),
            10_000,
        )
        .await
        .unwrap();
    let created = delivered.last().unwrap().created_at;
    let replayed = operator
        .replay(
            "raw",
            relay_bin::store::Status::Delivered,
            Some(created),
            Some(created + 1),
            created,
        )
        .await
        .unwrap();
    let replayed = usize::try_from(replayed).unwrap();
    assert!(replayed >= 1);
    raw.wait_for(total + replayed, Duration::from_secs(10))
        .await;
    // Wait for the relay's own record, not for time to pass: every send settled as delivered,
    // and nothing pending. Only then is the count of requests final.
    relay
        .wait_for_metric(
            &format!(
                "kick_relay_attempts_total{{output=\"raw\",outcome=\"delivered\"}} {}",
                total + replayed
            ),
            Duration::from_secs(10),
        )
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !operator
        .list(Some("raw"), Some(relay_bin::store::Status::Pending), 1)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(std::time::Instant::now() < deadline, "rows still pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    operator.close().await.unwrap();
    assert_eq!(
        raw.received().len(),
        total + replayed,
        "the replayed rows once more, nothing else"
    );
}
