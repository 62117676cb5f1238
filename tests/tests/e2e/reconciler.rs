//! The subscription reconciler of `serve`, against a stand-in for Kick's API: what Kick dropped
//! is created again, duplicates are removed, nothing else is touched; with replicas, one of
//! them does it; wrong credentials are counted and logged, and the relay keeps serving.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use relay_tests::{FakeKickApi, PgCluster, TestRelay, metric};

const SUBSCRIPTIONS: &str = "[[subscription]]\nbroadcaster_user_id = 1\nevents = [\"chat.message.sent\", \"channel.followed\"]\n";

/// `[kick]` lines: the app's credentials and the stand-in's URLs, reconciling every second.
fn kick(api: &FakeKickApi, secret: &str) -> String {
    format!(
        "client_id = \"app\"\nclient_secret = \"{secret}\"\napi_base_url = \"{0}\"\noauth_base_url = \"{0}\"\nreconcile_interval_secs = 1\n",
        api.url()
    )
}

/// The subscriptions of channel 1: event → how many.
fn held(api: &FakeKickApi) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in api
        .subscriptions()
        .into_iter()
        .filter(|s| s.broadcaster == 1)
    {
        *counts.entry(s.event).or_default() += 1;
    }
    counts
}

/// Waits until channel 1 has exactly one subscription per listed event.
async fn converged(api: &FakeKickApi) {
    let want = BTreeMap::from([
        ("channel.followed".to_owned(), 1),
        ("chat.message.sent".to_owned(), 1),
    ]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while held(api) != want {
        assert!(Instant::now() < deadline, "subscriptions: {:?}", held(api));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_kick_dropped_comes_back_and_duplicates_go() {
    let api = FakeKickApi::start("app", "s3cret", 100).await;
    let original = api.add(1, "chat.message.sent");
    api.add(1, "chat.message.sent"); // a duplicate: every chat message would come twice
    let other = api.add(2, "kicks.gifted"); // not in the list: left alone
    let relay = TestRelay::start_configured(None, &kick(&api, "s3cret"), SUBSCRIPTIONS).await;
    converged(&api).await;
    let ids: Vec<String> = api.subscriptions().into_iter().map(|s| s.id).collect();
    assert!(ids.contains(&original), "the oldest copy is kept: {ids:?}");
    assert!(ids.contains(&other), "{ids:?}");
    relay
        .wait_for_metric(
            "kick_relay_subscriptions_changed_total{change=\"removed\"} 1",
            Duration::from_secs(5),
        )
        .await;
    let created = "kick_relay_subscriptions_changed_total{change=\"created\"}";
    assert_eq!(metric(&relay.metrics().await, created), 1);

    // Kick drops the channel's subscriptions (a day of failed deliveries): they come back.
    api.drop_channel(1);
    converged(&api).await;
    relay
        .wait_for_metric(&format!("{created} 3"), Duration::from_secs(5))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_reconciles() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let api = FakeKickApi::start("app", "s3cret", 100).await;
    let relays = [
        TestRelay::start_configured(Some(&url), &kick(&api, "s3cret"), SUBSCRIPTIONS).await,
        TestRelay::start_configured(Some(&url), &kick(&api, "s3cret"), SUBSCRIPTIONS).await,
    ];
    converged(&api).await;
    // Several runs later (one a second), still one of each, and one replica ran them all.
    let runs = "kick_relay_reconcile_runs_total{result=\"ok\"}";
    let deadline = Instant::now() + Duration::from_secs(15);
    let counts = loop {
        let mut counts = Vec::new();
        for relay in &relays {
            counts.push(metric(&relay.metrics().await, runs));
        }
        if counts.iter().any(|n| *n >= 3) {
            break counts;
        }
        assert!(Instant::now() < deadline, "runs: {counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(counts.contains(&0), "both replicas reconciled: {counts:?}");
    converged(&api).await;
    let posts = api.calls().iter().filter(|c| *c == "POST").count();
    assert_eq!(posts, 1, "created once, by one replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_counted_and_the_relay_keeps_serving() {
    let api = FakeKickApi::start("app", "s3cret", 100).await;
    let relay = TestRelay::start_configured(None, &kick(&api, "wrong"), SUBSCRIPTIONS).await;
    relay
        .wait_for_metric(
            "kick_relay_reconcile_runs_total{result=\"error\"} 2",
            Duration::from_secs(10),
        )
        .await;
    assert!(api.subscriptions().is_empty());
    let body = br#"{"broadcaster":{"user_id":1},"follower":{"user_id":2}}"#;
    let (status, text) = relay
        .post("01JRECONCILE00000000000000", "channel.followed", body)
        .await;
    assert_eq!((status, text.as_str()), (200, "accepted"));
}
