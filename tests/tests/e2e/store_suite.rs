//! The store's behaviour, run against both backends: a real SQLite file and a real PostgreSQL
//! server (a throwaway cluster per test). Each case is written once and run twice.

use std::time::Duration;

use relay_bin::store::{
    Accepted, Completion, DedupScope, InboxRow, NewDelivery, Request, Status, Store, Synchronous,
};
use relay_tests::{PgCluster, TestRelay};

/// A store on a fresh database of `backend` and what keeps that database alive.
struct Fixture {
    store: Store,
    url: String,
    _cluster: Option<PgCluster>,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = TestRelay::fresh_dir();
    let (url, cluster) = match backend {
        Backend::Sqlite => (format!("sqlite://{}", dir.join("relay.db").display()), None),
        Backend::Postgres => {
            let cluster = PgCluster::start();
            (cluster.new_database(), Some(cluster))
        }
    };
    let store = Store::open(&url, Synchronous::Full).await.unwrap();
    Fixture {
        store,
        url,
        _cluster: cluster,
        dir,
    }
}

/// Runs `case` on SQLite and on PostgreSQL, one test each.
macro_rules! on_both {
    ($case:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case(super::fixture(super::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$case(super::fixture(super::Backend::Postgres).await).await;
            }
        }
    };
}

fn inbox(id: &str, key: Option<&str>, subscription: Option<&str>, at: i64) -> InboxRow {
    InboxRow {
        message_id: id.into(),
        dedup_key: key.map(str::to_owned),
        dedup_window_ms: 30_000,
        dedup_scope: DedupScope::OtherSubscription,
        received_at: at,
        event_type: "channel.followed".into(),
        version: "1".into(),
        subscription_id: subscription.map(str::to_owned),
        timestamp: "2026-12-01T00:00:00Z".into(),
        signature: "c2ln".into(),
        body: format!("{{\"id\":\"{id}\"}}").into_bytes().into(),
        parse_error: None,
    }
}

fn to(output: &str) -> NewDelivery {
    NewDelivery {
        output: output.into(),
        status: Status::Pending,
        last_error: None,
    }
}

async fn accept(store: &Store, row: InboxRow, outputs: &[&str]) -> Accepted {
    let deliveries = outputs.iter().map(|o| to(o)).collect();
    store.accept(row, deliveries, None).await.unwrap()
}

fn done(id: i64, status: Status, attempts: i64, at: i64) -> Completion {
    Completion {
        id,
        status,
        attempts,
        next_attempt_at: at,
        last_status: Some(if status == Status::Delivered {
            200
        } else {
            500
        }),
        last_error: (status != Status::Delivered).then(|| "HTTP 500".to_owned()),
        finished_at: (status != Status::Pending).then_some(at),
        at,
    }
}

async fn complete(store: &Store, completion: Completion) {
    store
        .complete_queued(completion)
        .await
        .unwrap()
        .await
        .unwrap()
        .unwrap();
}

/// `stats()`'s counts by output and status and its oldest pending row (SQLite keeps the
/// counts in a table of their own) agree with the rows as listed.
async fn assert_stats_match_the_rows(store: &Store, now: i64) {
    let rows = store.list(None, None, 1_000).await.unwrap();
    let mut counted: Vec<(String, String, i64)> = Vec::new();
    for row in &rows {
        match counted
            .iter_mut()
            .find(|(o, s, _)| *o == row.output && *s == row.status)
        {
            Some((_, _, n)) => *n += 1,
            None => counted.push((row.output.clone(), row.status.clone(), 1)),
        }
    }
    counted.sort();
    let stats = store.stats(now).await.unwrap();
    let mut kept = stats.by_status.clone();
    kept.sort();
    assert_eq!(kept, counted, "counts by output and status");
    let oldest = rows
        .iter()
        .filter(|r| r.status == "pending")
        .map(|r| r.created_at)
        .min();
    assert_eq!(stats.oldest_pending_ms, oldest.map(|created| now - created));
}

on_both!(a_message_id_is_stored_once_with_its_outbox_rows);
async fn a_message_id_is_stored_once_with_its_outbox_rows(f: Fixture) {
    let s = &f.store;
    assert_eq!(
        accept(s, inbox("m1", None, None, 1_000), &["raw", "discord"]).await,
        Accepted::New(2)
    );
    assert_eq!(
        accept(s, inbox("m1", None, None, 2_000), &["raw", "discord"]).await,
        Accepted::Duplicate
    );
    let stats = s.stats(3_000).await.unwrap();
    assert_eq!(stats.inbox, 1);
    let pending: i64 = stats
        .by_status
        .iter()
        .filter(|(_, st, _)| st == "pending")
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(pending, 2);
    assert_eq!(stats.oldest_pending_ms, Some(2_000));
    let raw = s.pending_after("raw", 0, 10).await.unwrap();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].message_id, "m1");
    // The event as Kick sent it, for the worker to render for its output.
    let Request::Event(event) = &raw[0].request else {
        panic!("a new row carries its event: {:?}", raw[0].request);
    };
    assert_eq!(event.body, br#"{"id":"m1"}"#);
    assert_eq!(
        (event.event_type.as_str(), event.version.as_str()),
        ("channel.followed", "1")
    );
    assert_eq!(event.signature, "c2ln");
}

on_both!(a_second_key_matches_another_subscriptions_copy_inside_its_window);
async fn a_second_key_matches_another_subscriptions_copy_inside_its_window(f: Fixture) {
    let s = &f.store;
    let key = Some("body:follow");
    assert_eq!(
        accept(s, inbox("a", key, Some("sub-A"), 10_000), &["raw"]).await,
        Accepted::New(1)
    );
    assert_eq!(
        accept(s, inbox("b", key, Some("sub-B"), 12_000), &["raw"]).await,
        Accepted::Duplicate
    );
    assert_eq!(
        accept(s, inbox("c", key, Some("sub-A"), 13_000), &["raw"]).await,
        Accepted::New(1),
        "same subscription: a new event"
    );
    assert_eq!(
        accept(s, inbox("d", key, Some("sub-B"), 50_000), &["raw"]).await,
        Accepted::New(1),
        "window over"
    );
}

on_both!(outcomes_move_rows_and_keep_their_history);
async fn outcomes_move_rows_and_keep_their_history(f: Fixture) {
    let s = &f.store;
    for (i, id) in (0_i64..).zip(["m1", "m2", "m3"]) {
        accept(s, inbox(id, None, None, 1_000 + i), &["raw"]).await;
    }
    let heads = s.pending_after("raw", 0, 10).await.unwrap();
    let ids: Vec<i64> = heads.iter().map(|h| h.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "queue order {ids:?}");
    assert_eq!(s.pending_after("raw", ids[0], 10).await.unwrap().len(), 2);
    complete(s, done(ids[0], Status::Delivered, 1, 2_000)).await;
    complete(s, done(ids[1], Status::Pending, 1, 2_100)).await;
    complete(s, done(ids[1], Status::Delivered, 2, 2_200)).await;
    complete(s, done(ids[2], Status::Dead, 8, 2_300)).await;
    let left: Vec<i64> = s
        .pending_after("raw", 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let first = s.detail(ids[0]).await.unwrap().unwrap();
    assert_eq!(first.delivery.status, "delivered");
    assert!(
        first.attempts.is_empty(),
        "a first-try delivery has no history"
    );
    assert_eq!(first.event_body.as_deref(), Some(r#"{"id":"m1"}"#));
    let second = s.detail(ids[1]).await.unwrap().unwrap();
    let history: Vec<&str> = second.attempts.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(history, ["pending", "delivered"]);
    let dead = s.list(Some("raw"), Some(Status::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id, "m3");
    let overview = s.overview("raw", 3_000).await.unwrap();
    assert_eq!(overview.pending, 0);
    assert_eq!(overview.last_error, Some(("HTTP 500".to_owned(), 2_300)));
    assert!(s.detail(9_999).await.unwrap().is_none());
    assert_stats_match_the_rows(s, 3_000).await;
}

on_both!(disabling_skips_pending_rows_and_replay_queues_them_again);
async fn disabling_skips_pending_rows_and_replay_queues_them_again(f: Fixture) {
    let s = &f.store;
    accept(s, inbox("m1", None, None, 1_000), &["raw", "other"]).await;
    accept(s, inbox("m2", None, None, 1_001), &["raw"]).await;
    s.disable_output("raw", "HTTP 404", 2_000).await.unwrap();
    assert_eq!(
        s.output_disabled("raw").await.unwrap().as_deref(),
        Some("HTTP 404")
    );
    assert!(s.disabled_outputs().await.unwrap().contains("raw"));
    assert_stats_match_the_rows(s, 2_000).await;
    assert!(s.pending_after("raw", 0, 10).await.unwrap().is_empty());
    assert_eq!(
        s.pending_after("other", 0, 10).await.unwrap().len(),
        1,
        "other outputs untouched"
    );
    s.enable_output("raw", 3_000).await.unwrap();
    assert_eq!(s.output_disabled("raw").await.unwrap(), None);
    let mut announced = s.announcements();
    let skipped = s
        .list(Some("raw"), Some(Status::Skipped), 10)
        .await
        .unwrap();
    assert_eq!(skipped.len(), 2);
    assert!(s.replay_one(skipped[0].id, 4_000).await.unwrap());
    assert!(
        !s.replay_one(skipped[0].id, 4_000).await.unwrap(),
        "already pending"
    );
    // A time range selects by when the rows were created: [since, until).
    for (since, until) in [(Some(5_000), None), (None, Some(1_000))] {
        assert_eq!(
            s.replay("raw", Status::Skipped, since, until, 4_000)
                .await
                .unwrap(),
            0,
            "nothing created in {since:?}..{until:?}"
        );
    }
    assert_eq!(
        s.replay("raw", Status::Skipped, Some(1_000), Some(1_002), 4_000)
            .await
            .unwrap(),
        1
    );
    assert!(
        s.replay("raw", Status::Pending, None, None, 4_000)
            .await
            .is_err()
    );
    assert_eq!(s.pending_after("raw", 0, 10).await.unwrap().len(), 2);
    assert_stats_match_the_rows(s, 4_000).await;
    let history = s.detail(skipped[0].id).await.unwrap().unwrap().attempts;
    assert_eq!(
        history.last().and_then(|a| a.error.as_deref()),
        Some("replayed by an operator")
    );
    if let Some(announced) = &mut announced {
        // PostgreSQL announces the replay to whichever replica sends `raw`.
        let name = tokio::time::timeout(Duration::from_secs(5), announced.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(name, "raw");
    }
}

on_both!(the_purge_keeps_what_still_needs_work);
async fn the_purge_keeps_what_still_needs_work(f: Fixture) {
    let s = &f.store;
    for (i, id) in (0_i64..).zip(["old-done", "old-dead", "old-pending"]) {
        accept(s, inbox(id, None, None, 1_000 + i), &["raw"]).await;
    }
    let heads = s.pending_after("raw", 0, 10).await.unwrap();
    complete(s, done(heads[0].id, Status::Delivered, 1, 2_000)).await;
    complete(s, done(heads[1].id, Status::Dead, 8, 2_000)).await;
    accept(s, inbox("new", None, None, 50_000), &["raw"]).await;
    s.purge(10_000).await.unwrap();
    let stats = s.stats(60_000).await.unwrap();
    // The delivered event's inbox row goes; the pending and dead ones' stay (their requests
    // are rendered from it when sent or replayed), and the newer one's.
    assert_eq!(stats.inbox, 3);
    let pending = s.pending_after("raw", 0, 10).await.unwrap();
    assert!(
        matches!(&pending[0].request, Request::Event(e) if e.body == br#"{"id":"old-pending"}"#),
        "{pending:?}"
    );
    let left: Vec<String> = s
        .list(None, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.message_id)
        .collect();
    assert_eq!(left, ["new", "old-pending", "old-dead"]);
    assert_stats_match_the_rows(s, 60_000).await;
    // The inbox row is gone: the same id is new again (the window has passed).
    assert_eq!(
        accept(s, inbox("old-done", None, None, 60_000), &[]).await,
        Accepted::New(0)
    );
}

on_both!(a_closed_store_refuses_writes_and_reopens_with_its_rows);
async fn a_closed_store_refuses_writes_and_reopens_with_its_rows(f: Fixture) {
    let s = &f.store;
    accept(s, inbox("m1", None, None, 1_000), &["raw"]).await;
    s.check_writable(1_000).await.unwrap();
    s.close().await.unwrap();
    let err = s
        .accept(inbox("m2", None, None, 1_000), Vec::new(), None)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("stopped") || format!("{err:#}").contains("closed"),
        "{err:#}"
    );
    let again = Store::open(&f.url, Synchronous::Full).await.unwrap();
    assert_eq!(again.pending_after("raw", 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        accept(&again, inbox("m1", None, None, 2_000), &["raw"]).await,
        Accepted::Duplicate
    );
    again.close().await.unwrap();
}

// Leases: on PostgreSQL one holder at a time until it lapses or is released; on SQLite the
// one serving process holds them all.
on_both!(a_lease_has_one_holder_until_it_lapses_or_is_released);
async fn a_lease_has_one_holder_until_it_lapses_or_is_released(f: Fixture) {
    let s = &f.store;
    let ttl = Duration::from_millis(600);
    assert!(s.try_lease("output:raw", "a", ttl).await.unwrap());
    assert!(
        s.try_lease("output:raw", "a", ttl).await.unwrap(),
        "renewal"
    );
    if s.kind() == "sqlite" {
        assert!(s.try_lease("output:raw", "b", ttl).await.unwrap());
        return;
    }
    assert!(
        !s.try_lease("output:raw", "b", ttl).await.unwrap(),
        "held by a"
    );
    assert!(
        s.try_lease("purge", "b", ttl).await.unwrap(),
        "another lease is free"
    );
    // a stops renewing: b gets it once it lapses.
    let started = std::time::Instant::now();
    while !s.try_lease("output:raw", "b", ttl).await.unwrap() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the lease never lapsed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "taken before it lapsed"
    );
    assert!(!s.try_lease("output:raw", "a", ttl).await.unwrap());
    s.release_lease("output:raw", "b").await.unwrap();
    assert!(
        s.try_lease("output:raw", "a", ttl).await.unwrap(),
        "released: free at once"
    );
}

/// Two stores on one PostgreSQL database (two replicas) receive the same deliveries at once:
/// each message id and each copy is stored once, with one outbox row per output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_store_each_delivery_once() {
    let f = fixture(Backend::Postgres).await;
    let other = Store::open(&f.url, Synchronous::Full).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..400_i64 {
        for store in [f.store.clone(), other.clone()] {
            // Even i: the same message id to both; odd i: Kick's copies for two subscriptions.
            let (id, subscription) = if i % 2 == 0 {
                (format!("same-{i}"), "sub-A".to_owned())
            } else {
                (
                    format!("copy-{i}-{}", tasks.len() % 2),
                    format!("sub-{}", tasks.len() % 2),
                )
            };
            let key = format!("body:{i}");
            tasks.push(tokio::spawn(async move {
                let row = inbox(&id, Some(&key), Some(&subscription), 1_000 + i);
                accept(&store, row, &["raw", "discord"]).await
            }));
        }
    }
    let mut new = 0;
    for task in tasks {
        if let Accepted::New(rows) = task.await.unwrap() {
            assert_eq!(rows, 2);
            new += 1;
        }
    }
    assert_eq!(new, 400, "one of each pair stored");
    let stats = f.store.stats(0).await.unwrap();
    assert_eq!(stats.inbox, 400);
    let rows: i64 = stats.by_status.iter().map(|(_, _, n)| n).sum();
    assert_eq!(rows, 800);
    other.close().await.unwrap();
}

/// An unreachable PostgreSQL is reported with its cause and without the password.
#[tokio::test]
async fn an_unreachable_postgres_says_why_and_hides_the_password() {
    let port = relay_tests::free_port();
    let url = format!("postgres://relay:hunter2@127.0.0.1:{port}/kick");
    let err = Store::open(&url, Synchronous::Full).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("Connection refused"), "{message}");
    assert!(message.contains("relay:***@127.0.0.1"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

on_both!(a_retry_holds_its_place_and_later_deliveries_are_not_sent_twice);
/// Kick's order through retries: a delivery waiting for its retry stays pending while later
/// ones are settled (several in flight), nothing settled comes back from the queue, and the
/// counts follow.
async fn a_retry_holds_its_place_and_later_deliveries_are_not_sent_twice(f: Fixture) {
    let s = &f.store;
    for n in 1..=5 {
        accept(
            s,
            inbox(&format!("m{n}"), None, None, n * 1_000),
            &["d", "r"],
        )
        .await;
    }
    let queued = s.pending_after("d", 0, 64).await.unwrap();
    let ids: Vec<i64> = queued.iter().map(|h| h.id).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "Kick's order: {ids:?}");
    complete(s, done(ids[0], Status::Delivered, 1, 10_000)).await;
    complete(s, done(ids[1], Status::Pending, 1, 60_000)).await;
    complete(s, done(ids[2], Status::Delivered, 1, 10_000)).await;
    complete(s, done(ids[3], Status::Dead, 1, 10_000)).await;
    let left: Vec<(i64, i64)> = s
        .pending_after("d", 0, 64)
        .await
        .unwrap()
        .iter()
        .map(|h| (h.id, h.attempts))
        .collect();
    assert_eq!(left, [(ids[1], 1), (ids[4], 0)]);
    // The same read from where the worker stands.
    let after: Vec<i64> = s
        .pending_after("d", ids[3], 64)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(after, [ids[4]]);
    complete(s, done(ids[1], Status::Delivered, 2, 70_000)).await;
    complete(s, done(ids[4], Status::Delivered, 1, 70_000)).await;
    assert!(s.pending_after("d", 0, 64).await.unwrap().is_empty());
    assert_eq!(s.pending_after("r", 0, 64).await.unwrap().len(), 5);
    let listed = s.list(Some("d"), None, 100).await.unwrap();
    let statuses: Vec<(&str, i64)> = listed
        .iter()
        .map(|r| (r.status.as_str(), r.attempts))
        .collect();
    assert_eq!(
        statuses,
        [
            ("delivered", 1),
            ("dead", 1),
            ("delivered", 1),
            ("delivered", 2),
            ("delivered", 1)
        ]
    );
    let detail = s.detail(ids[1]).await.unwrap().unwrap();
    assert_eq!(detail.attempts.len(), 2, "{detail:?}");
    assert_eq!(detail.delivery.status, "delivered");
    let plain = s.detail(ids[0]).await.unwrap().unwrap();
    assert_eq!(plain.delivery.status, "delivered");
    assert_eq!(plain.event_body.as_deref(), Some(r#"{"id":"m1"}"#));
    assert_stats_match_the_rows(s, 100_000).await;
}

on_both!(an_outcome_recorded_before_earlier_sends_leaves_them_pending);
/// A delivery the worker cannot render is recorded at once, while earlier ones still wait for
/// their send: they stay pending, and each is sent once.
async fn an_outcome_recorded_before_earlier_sends_leaves_them_pending(f: Fixture) {
    let s = &f.store;
    for n in 1..=3 {
        accept(s, inbox(&format!("m{n}"), None, None, n * 1_000), &["d"]).await;
    }
    let ids: Vec<i64> = s
        .pending_after("d", 0, 64)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    complete(s, done(ids[2], Status::Skipped, 1, 5_000)).await;
    let left: Vec<i64> = s
        .pending_after("d", 0, 64)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(left, ids[..2]);
    complete(s, done(ids[0], Status::Delivered, 1, 6_000)).await;
    complete(s, done(ids[1], Status::Delivered, 1, 6_000)).await;
    assert!(s.pending_after("d", 0, 64).await.unwrap().is_empty());
    assert_stats_match_the_rows(s, 10_000).await;
}

on_both!(an_output_that_never_sends_keeps_only_its_own_events_from_the_purge);
/// An output that sends nothing (its receiver down for good, or removed from the
/// configuration with a backlog) keeps its own pending events, and nothing else: the events
/// other outputs delivered are purged behind and beyond its backlog, however long it is (the
/// purge goes through it in chunks).
async fn an_output_that_never_sends_keeps_only_its_own_events_from_the_purge(f: Fixture) {
    let s = &f.store;
    let mut accepts = tokio::task::JoinSet::new();
    for i in 0..5_100_i64 {
        let store = s.clone();
        accepts.spawn(async move {
            accept(
                &store,
                inbox(&format!("stuck-{i}"), None, None, 1_000 + i),
                &["stalled"],
            )
            .await
        });
    }
    while let Some(accepted) = accepts.join_next().await {
        assert_eq!(accepted.unwrap(), Accepted::New(1));
    }
    for i in 0..50_i64 {
        accept(
            s,
            inbox(&format!("sent-{i}"), None, None, 20_000 + i),
            &["working"],
        )
        .await;
    }
    let heads = s.pending_after("working", 0, 100).await.unwrap();
    assert_eq!(heads.len(), 50);
    for head in &heads {
        complete(s, done(head.id, Status::Delivered, 1, 30_000)).await;
    }
    s.purge(100_000).await.unwrap();
    let stats = s.stats(100_000).await.unwrap();
    assert_eq!(
        stats.inbox, 5_100,
        "the stalled output's events stay, the sent ones go"
    );
    let mut counts = stats.by_status.clone();
    counts.sort();
    assert_eq!(
        counts,
        [("stalled".to_owned(), "pending".to_owned(), 5_100)]
    );
    assert_eq!(s.pending_after("stalled", 0, 10).await.unwrap().len(), 10);
    assert_eq!(
        accept(s, inbox("sent-0", None, None, 100_000), &[]).await,
        Accepted::New(0),
        "a purged event's id is new again"
    );
}
