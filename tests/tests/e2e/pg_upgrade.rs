//! A PostgreSQL database written by 0.1 (an inbox, and an outbox row per delivery) opens as
//! the log with cursors and exception rows: every delivery keeps its state, history and
//! place, new events go after the old ones, an old message id is still a duplicate.

use relay_bin::store::{Accepted, DedupScope, InboxRow, NewDelivery, Status, Store, Synchronous};
use relay_tests::PgCluster;

/// The tables as 0.1 created them (schema steps 1 and 2) with a few deliveries: one
/// delivered, one dead with its history, a retry waiting, one never tried.
const DATABASE_OF_0_1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '2');
CREATE TABLE inbox (message_id TEXT PRIMARY KEY, dedup_key TEXT, received_at BIGINT NOT NULL,
    event_type TEXT NOT NULL, version TEXT NOT NULL, subscription_id TEXT, timestamp TEXT NOT NULL,
    signature TEXT NOT NULL, body BYTEA NOT NULL, parse_error TEXT);
CREATE INDEX inbox_dedup ON inbox(dedup_key, received_at);
CREATE INDEX inbox_received ON inbox(received_at);
CREATE TABLE outbox (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, message_id TEXT NOT NULL,
    output TEXT NOT NULL, event_type TEXT NOT NULL, status TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL, last_status BIGINT, last_error TEXT,
    finished_at BIGINT);
CREATE INDEX outbox_queue ON outbox(output, status, id);
CREATE INDEX outbox_message ON outbox(message_id);
CREATE TABLE outbox_body (id BIGINT PRIMARY KEY, headers TEXT NOT NULL, body BYTEA NOT NULL, batch_line TEXT);
CREATE TABLE attempt (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, outbox_id BIGINT NOT NULL,
    at BIGINT NOT NULL, status TEXT NOT NULL, http_status BIGINT, error TEXT);
CREATE INDEX attempt_outbox ON attempt(outbox_id);
CREATE TABLE output_state (name TEXT PRIMARY KEY, disabled BOOLEAN NOT NULL, reason TEXT, changed_at BIGINT NOT NULL);
CREATE TABLE lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at BIGINT NOT NULL);
INSERT INTO inbox VALUES
    ('e1', 'chat:1', 1000, 'chat.message.sent', '1', 's', '2026-12-01T00:00:01Z', 'sig', '{\"a\":1}', NULL),
    ('e2', 'chat:2', 2000, 'chat.message.sent', '1', 's', '2026-12-01T00:00:02Z', 'sig', '{\"a\":2}', NULL),
    ('e3', 'chat:3', 3000, 'chat.message.sent', '1', 's', '2026-12-01T00:00:03Z', 'sig', '{\"a\":3}', NULL);
INSERT INTO outbox (message_id, output, event_type, status, attempts, created_at, next_attempt_at, last_status, last_error, finished_at) VALUES
    ('e1', 'raw', 'chat.message.sent', 'delivered', 1, 1000, 1000, 204, NULL, 1100),
    ('e1', 'disc', 'chat.message.sent', 'dead', 2, 1000, 1000, 400, 'HTTP 400', 1500),
    ('e2', 'raw', 'chat.message.sent', 'pending', 1, 2000, 9000, 500, 'HTTP 500', NULL),
    ('e3', 'raw', 'chat.message.sent', 'pending', 0, 3000, 3000, NULL, NULL, NULL);
INSERT INTO attempt (outbox_id, at, status, http_status, error) VALUES
    (2, 1200, 'pending', 500, 'HTTP 500'), (2, 1500, 'dead', 400, 'HTTP 400'), (3, 2500, 'pending', 500, 'HTTP 500');
";

fn event(id: &str, at: i64) -> InboxRow {
    InboxRow {
        message_id: id.into(),
        dedup_key: None,
        dedup_window_ms: 0,
        dedup_scope: DedupScope::Any,
        received_at: at,
        event_type: "chat.message.sent".into(),
        version: "1".into(),
        subscription_id: None,
        timestamp: "2026-12-01T00:00:04Z".into(),
        signature: "sig".into(),
        body: b"{}".to_vec().into(),
        parse_error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_0_1_keeps_every_delivery_and_new_events_follow() {
    let cluster = PgCluster::start();
    let url = cluster.new_database();
    let name = url.rsplit('/').next().unwrap().to_owned();
    cluster.psql(&name, DATABASE_OF_0_1);
    let store = Store::open(&url, Synchronous::Full).await.unwrap();
    let queued: Vec<(String, i64, i64)> = store
        .pending_after("raw", 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.message_id, h.attempts, h.next_attempt_at))
        .collect();
    assert_eq!(
        queued,
        [("e2".to_owned(), 1, 9000), ("e3".to_owned(), 0, 3000)]
    );
    let dead = store
        .list(Some("disc"), Some(Status::Dead), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let detail = store.detail(dead[0].id).await.unwrap().unwrap();
    let history: Vec<&str> = detail.attempts.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(history, ["pending", "dead"]);
    assert_eq!(detail.event_body.as_deref(), Some(r#"{"a":1}"#));
    let mut counts = store.stats(10_000).await.unwrap().by_status;
    counts.sort();
    assert_eq!(
        counts,
        [
            ("disc".to_owned(), "dead".to_owned(), 1),
            ("raw".to_owned(), "delivered".to_owned(), 1),
            ("raw".to_owned(), "pending".to_owned(), 2),
        ]
    );
    let to_raw = NewDelivery {
        output: "raw".into(),
        status: Status::Pending,
        last_error: None,
    };
    store
        .accept(event("e4", 4000), vec![to_raw], None)
        .await
        .unwrap();
    let order: Vec<String> = store
        .pending_after("raw", 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.message_id)
        .collect();
    assert_eq!(order, ["e2", "e3", "e4"]);
    assert_eq!(
        store
            .accept(event("e1", 5000), Vec::new(), None)
            .await
            .unwrap(),
        Accepted::Duplicate
    );
    let tables = cluster.psql(
        &name,
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(
        tables.trim(),
        "cursor,cursor_end,delivery_count,exception,history,lease,log,meta,output_state,stored_request"
    );
    store.close().await.unwrap();
}
