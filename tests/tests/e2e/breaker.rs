//! The breaker: after five failures in a row an output rests for the whole pause, whatever
//! new traffic arrives, and then one request alone (half-open) decides.

use std::time::Duration;

use relay_tests::{Reply, StandIn, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_holds_against_new_traffic_and_then_probes_once() {
    // Five failures, then a slow success (the probe), then successes.
    let flaky = StandIn::scripted(|n| match n {
        1..=5 => Reply::status(500),
        6 => Reply {
            delay: Duration::from_millis(500),
            ..Reply::status(204)
        },
        _ => Reply::status(204),
    })
    .await;
    let witness = StandIn::always(Reply::status(204)).await;
    let mut relay = TestRelay::start(&format!(
        "[[output]]\nname = \"flaky\"\ntype = \"raw\"\nurl = \"{}\"\nretry_schedule_secs = [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]\n\
         [[output]]\nname = \"witness\"\ntype = \"raw\"\nurl = \"{}\"\n",
        flaky.url("/flaky"),
        witness.url("/witness")
    ))
    .await;
    let body = br#"{"raid":{"viewers":3}}"#;
    let post = |i: usize| {
        let relay = &relay;
        async move {
            let id = format!("01JBREAKER0000000000000{i:03}");
            assert_eq!(
                relay.post(&id, "channel.raid.started", body).await.1,
                "accepted"
            );
        }
    };
    post(0).await;
    relay
        .wait_for_metric(
            "kick_relay_breaker_open{output=\"flaky\"} 1",
            Duration::from_secs(20),
        )
        .await;
    let failed = flaky.received();
    assert_eq!(failed.len(), 5, "the breaker opens at the fifth failure");
    let opened = failed[4].at;

    // New deliveries while the breaker is open: each wakes the workers; the witness output
    // gets them all, the flaky one none until the pause is over.
    for i in 1..=5 {
        post(i).await;
    }
    let seen = witness.wait_for(6, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 6, "the witness output got every event");
    // Before the fix, the first wake-up resent the failed row about a second after the fifth
    // failure; give that time to show.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        flaky.received().len(),
        5,
        "nothing is sent while the breaker is open, however much arrives"
    );

    // After the pause: the probe goes out alone, then the rest.
    let all = flaky.wait_for(11, Duration::from_mins(1)).await;
    assert_eq!(all.len(), 11, "{all:?}");
    let probe = &all[5];
    assert!(
        probe.at.duration_since(opened) >= Duration::from_secs(29),
        "the probe came {:?} after the breaker opened",
        probe.at.duration_since(opened)
    );
    assert_eq!(probe.headers["webhook-id"], "01JBREAKER0000000000000000");
    assert!(
        all[6].at.duration_since(probe.at) >= Duration::from_millis(500),
        "nothing else is sent while the probe is out"
    );
    relay
        .wait_for_metric(
            "kick_relay_breaker_open{output=\"flaky\"} 0",
            Duration::from_secs(10),
        )
        .await;
    relay.stop().await;
}
