//! The breaker: after five failures in a row an output rests for the whole pause, whatever
//! new traffic arrives, and then one request alone (half-open) decides. The pause runs on the
//! relay's clock, which the test moves instead of waiting 30 s.

use std::time::Duration;

use relay_tests::{Reply, StandIn, TestClock, TestRelay};

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
    let clock = TestClock::default();
    let mut relay = TestRelay::start_with_clock(clock.clock(), &format!(
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

    // New deliveries while the breaker is open, and most of the pause passing: each wakes
    // the workers; the witness output gets them all, the flaky one none until the pause is over.
    for i in 1..=5 {
        post(i).await;
    }
    clock.advance(Duration::from_secs(20));
    post(6).await;
    let seen = witness.wait_for(7, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 7, "the witness output got every event");
    assert_eq!(
        flaky.received().len(),
        5,
        "nothing is sent while the breaker is open, however much arrives"
    );

    // The pause ends: the probe goes out alone, then the rest. Nothing reached the flaky
    // output before the clock passed the pause (a pause cut short by the wake-ups above, or
    // not on the relay's clock, sends before this point).
    let pause_over = std::time::Instant::now();
    clock.advance(Duration::from_secs(11));
    let all = flaky.wait_for(12, Duration::from_secs(30)).await;
    assert_eq!(all.len(), 12, "{all:?}");
    let probe = &all[5];
    assert!(
        probe.at >= pause_over,
        "a request went out during the pause"
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
