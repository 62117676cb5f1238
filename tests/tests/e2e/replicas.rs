//! Two relays (replicas) on one PostgreSQL database, in process: every delivery relayed once,
//! in order, whichever replica Kick's request reached; the same message id posted to both at
//! once is accepted by one; a replica that stops hands its output to the other.

use std::time::{Duration, Instant};

use relay_bin::store::{Status, Store, Synchronous};
use relay_tests::{PgCluster, Reply, StandIn, TestRelay, metric};

const HELD: &str = "kick_relay_lease_held{lease=\"output:forward\"}";

fn outputs(forward: &StandIn) -> String {
    format!(
        "[[output]]\nname = \"forward\"\ntype = \"forward\"\nurl = \"{}\"\nmax_in_flight = 1\n",
        forward.url("/kick")
    )
}

fn follow(i: usize) -> Vec<u8> {
    format!(r#"{{"broadcaster":{{"user_id":1}},"follower":{{"user_id":{i}}}}}"#).into_bytes()
}

/// Message ids in the order the stand-in received them.
fn ids(forward: &StandIn) -> Vec<String> {
    forward
        .received()
        .iter()
        .map(|r| {
            r.headers["kick-event-message-id"]
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Which of `relays` holds the forward output's lease (waits until exactly one does).
async fn holder(relays: &[&TestRelay]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut held = Vec::new();
        for (i, relay) in relays.iter().enumerate() {
            if metric(&relay.metrics().await, HELD) == 1 {
                held.push(i);
            }
        }
        if let [one] = held[..] {
            return one;
        }
        assert!(Instant::now() < deadline, "holders: {held:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_relay_every_delivery_once_in_order() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let forward = StandIn::always(Reply::status(200)).await;
    let a = TestRelay::start_on_database(&url, &outputs(&forward)).await;
    let b = TestRelay::start_on_database(&url, &outputs(&forward)).await;
    holder(&[&a, &b]).await;

    let mut expected = Vec::new();
    for i in 0..60 {
        let id = format!("01JREPLICA{i:016}");
        let relay = if i % 2 == 0 { &a } else { &b };
        let (status, text) = relay.post(&id, "channel.followed", &follow(i)).await;
        assert_eq!((status, text.as_str()), (200, "accepted"), "{id}");
        expected.push(id);
    }
    // The same delivery reaching both replicas at once (a retry racing the original).
    for i in 60..80 {
        let id = format!("01JREPLICA{i:016}");
        let body = follow(i);
        let (x, y) = tokio::join!(
            a.post(&id, "channel.followed", &body),
            b.post(&id, "channel.followed", &body)
        );
        let mut answers = [x.1, y.1];
        answers.sort();
        assert_eq!(answers, ["accepted", "duplicate"], "{id}");
        expected.push(id);
    }
    // A last delivery: once it has arrived, everything before it has (one output, in order).
    let last = "01JREPLICALAST00000000000".to_owned();
    assert_eq!(a.post(&last, "channel.followed", &follow(99)).await.0, 200);
    expected.push(last);
    forward
        .wait_for(expected.len(), Duration::from_secs(30))
        .await;
    assert_eq!(
        ids(&forward),
        expected,
        "each once, in the order they were acknowledged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_stops_hands_its_output_over() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let forward = StandIn::always(Reply::status(200)).await;
    let mut relays = vec![
        TestRelay::start_on_database(&url, &outputs(&forward)).await,
        TestRelay::start_on_database(&url, &outputs(&forward)).await,
    ];
    let first = holder(&[&relays[0], &relays[1]]).await;
    let mut stopping = relays.remove(first);
    let survivor = &relays[0];
    assert_eq!(metric(&survivor.metrics().await, HELD), 0);
    // Accepted by the survivor while the holder still sends: the holder relays them.
    for i in 0..5 {
        let id = format!("01JHANDOVER{i:015}");
        assert_eq!(
            survivor.post(&id, "channel.followed", &follow(i)).await.0,
            200
        );
    }
    forward.wait_for(5, Duration::from_secs(10)).await;
    stopping.stop().await;
    let released = Instant::now();
    holder(&[survivor]).await;
    let took = released.elapsed();
    for i in 5..10 {
        let id = format!("01JHANDOVER{i:015}");
        assert_eq!(
            survivor.post(&id, "channel.followed", &follow(i)).await.0,
            200
        );
    }
    forward.wait_for(10, Duration::from_secs(10)).await;
    let expected: Vec<String> = (0..10).map(|i| format!("01JHANDOVER{i:015}")).collect();
    assert_eq!(ids(&forward), expected);
    // A released lease is taken at the survivor's next renewal, not after it lapses.
    assert!(took < relay_bin::lease::TTL, "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_elsewhere_disables_and_replays_on_the_replica_sending() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let forward = StandIn::always(Reply::status(200)).await;
    let relays = [
        TestRelay::start_on_database(&url, &outputs(&forward)).await,
        TestRelay::start_on_database(&url, &outputs(&forward)).await,
    ];
    let sending = holder(&[&relays[0], &relays[1]]).await;
    let sender = &relays[sending];
    // What `kick-relay outputs disable` and `deliveries replay` do, from any host.
    let operator = Store::open(&url, Synchronous::Full).await.unwrap();
    operator
        .disable_output("forward", "disabled by operator", 1)
        .await
        .unwrap();
    sender
        .wait_for_metric(
            "kick_relay_output_disabled{output=\"forward\"} 1",
            Duration::from_secs(5),
        )
        .await;
    for i in 0..3 {
        let id = format!("01JOPERATOR{i:015}");
        assert_eq!(
            sender.post(&id, "channel.followed", &follow(i)).await.1,
            "accepted"
        );
    }
    sender
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"forward\",status=\"skipped\"} 3",
            Duration::from_secs(5),
        )
        .await;
    operator.enable_output("forward", 2).await.unwrap();
    let now = relay_bin::clock::now_ms();
    let queued = operator
        .replay("forward", Status::Skipped, None, None, now)
        .await
        .unwrap();
    assert_eq!(queued, 3);
    let got = forward.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3);
    assert_eq!(
        ids(&forward),
        (0..3)
            .map(|i| format!("01JOPERATOR{i:015}"))
            .collect::<Vec<_>>()
    );
    operator.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_gives_503_and_the_relay_recovers_by_itself() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let forward = StandIn::always(Reply::status(200)).await;
    let relay = TestRelay::start_on_database(&url, &outputs(&forward)).await;
    holder(&[&relay]).await;
    let id = |i: usize| format!("01JPGDOWN{i:017}");
    assert_eq!(
        relay.post(&id(0), "channel.followed", &follow(0)).await.1,
        "accepted"
    );
    forward.wait_for(1, Duration::from_secs(10)).await;
    // Its outcome recorded too: an outcome still waiting for its commit when the database goes
    // away is lost with it, and that delivery is sent again (at least once).
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"forward\",status=\"delivered\"} 1",
            Duration::from_secs(10),
        )
        .await;

    cluster.stop();
    let (status, text) = relay.post(&id(1), "channel.followed", &follow(1)).await;
    assert_eq!(status, 503, "{text}");
    let ready = reqwest::get(relay.admin_url("/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);

    cluster.start_server();
    // Kick retries what got 503: the retry is accepted once the database is back.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, text) = relay.post(&id(1), "channel.followed", &follow(1)).await;
        if status == 200 {
            assert_eq!(text, "accepted");
            break;
        }
        assert_eq!(status, 503, "{text}");
        assert!(Instant::now() < deadline, "the relay never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        relay.post(&id(2), "channel.followed", &follow(2)).await.1,
        "accepted"
    );
    forward.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(ids(&forward), [id(0), id(1), id(2)]);
}
