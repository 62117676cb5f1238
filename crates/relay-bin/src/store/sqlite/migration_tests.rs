//! A database written by 0.1 (an inbox and an outbox row per delivery; development builds
//! stored requests inside `outbox`) opens as the log with cursors and exception rows, keeps its
//! queue, and its pending rows go out with the request they were stored with.

use crate::store::{Status, Store};

/// The outbox as development builds before `outbox_body` created it.
const OLD_OUTBOX: &str = "
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    output TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    finished_at INTEGER
);
INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at, headers, body)
VALUES ('m1', 'raw', 'chat.message.sent', 'pending', 1, 1, '[[\"content-type\",\"application/json\"]]', X'7B7D'),
       ('m2', 'raw', 'chat.message.sent', 'delivered', 2, 2, '[]', X'5B5D');
";

/// A database written by `sql` in a fresh folder: the folder and the database's URL.
fn old_database(name: &str, sql: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!(
        "kick-relay-migration-{name}-{}-{}",
        std::process::id(),
        crate::clock::now_ms()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("old.db");
    let url = format!("sqlite://{}", file.display());
    let old = rusqlite::Connection::open(&file).unwrap();
    old.execute_batch(sql).unwrap();
    old.close().unwrap();
    (dir, url)
}

#[tokio::test]
async fn an_old_outbox_moves_its_requests_and_keeps_its_queue() {
    let (dir, url) = old_database("outbox", OLD_OUTBOX);

    let store = Store::open(&url, super::Synchronous::Full).await.unwrap();
    let pending = store.pending_after("raw", 0, 10).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].message_id, "m1");
    let crate::store::Request::Rendered { headers, body, .. } = &pending[0].request else {
        panic!(
            "an old row keeps its stored request: {:?}",
            pending[0].request
        );
    };
    assert_eq!(&body[..], b"{}");
    assert_eq!(
        headers,
        &vec![("content-type".to_owned(), "application/json".to_owned())]
    );
    let delivered = store
        .list(Some("raw"), Some(Status::Delivered), 10)
        .await
        .unwrap();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].message_id, "m2");
    // Opening again is a no-op.
    drop(store);
    let again = Store::open(&url, super::Synchronous::Full).await.unwrap();
    assert_eq!(again.pending_after("raw", 0, 10).await.unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The outbox table as 0.1 created it (since `outbox_body`), for the fixtures below.
macro_rules! outbox_0_1 {
    () => {
        "
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    output TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    finished_at INTEGER
);
"
    };
}

/// An outbox as 0.1 before Discord chat was combined: `outbox_body` without `batch_line`.
const OUTBOX_BODY_WITHOUT_BATCH_LINE: &str = concat!(
    outbox_0_1!(),
    "CREATE TABLE outbox_body (id INTEGER PRIMARY KEY, headers TEXT NOT NULL, body BLOB NOT NULL);
INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at)
VALUES ('m1', 'discord', 'chat.message.sent', 'pending', 1, 1);
INSERT INTO outbox_body (id, headers, body) VALUES (1, '[]', X'7B7D');
"
);

#[tokio::test]
async fn an_outbox_body_without_batch_lines_gets_the_column_and_its_rows_go_out_alone() {
    let (dir, url) = old_database("batch", OUTBOX_BODY_WITHOUT_BATCH_LINE);
    let store = Store::open(&url, super::Synchronous::Full).await.unwrap();
    let pending = store.pending_after("discord", 0, 10).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(
        matches!(
            &pending[0].request,
            crate::store::Request::Rendered {
                batch_line: None,
                ..
            }
        ),
        "an old row is sent in its stored form"
    );
    drop(store);
    let again = Store::open(&url, super::Synchronous::Full).await.unwrap();
    assert_eq!(
        again.pending_after("discord", 0, 10).await.unwrap().len(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tables as 0.1 created them (with the queue index over every row of its first builds).
const QUEUE_INDEX_OVER_EVERY_ROW: &str = concat!(
    outbox_0_1!(),
    "CREATE INDEX outbox_queue ON outbox(output, status, id);
INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at)
VALUES ('m1', 'raw', 'chat.message.sent', 'delivered', 1, 1),
       ('m2', 'raw', 'chat.message.sent', 'pending', 2, 2),
       ('m3', 'forward', 'chat.message.sent', 'pending', 3, 3);
"
);

#[tokio::test]
async fn the_outbox_of_0_1_becomes_the_log_with_its_queue_and_counts() {
    let (dir, url) = old_database("queue", QUEUE_INDEX_OVER_EVERY_ROW);
    let store = Store::open(&url, super::Synchronous::Full).await.unwrap();
    let pending = store.pending_after("raw", 0, 10).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|h| h.message_id.as_str())
            .collect::<Vec<_>>(),
        ["m2"]
    );
    drop(store);
    let tables = {
        let db = rusqlite::Connection::open(super::database_file(&url).unwrap()).unwrap();
        let names: Vec<String> = db
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        names
    };
    assert_eq!(
        tables,
        [
            "cursor",
            "delivery_count",
            "exception",
            "history",
            "log",
            "meta",
            "output_state",
            "stored_request"
        ],
        "the outbox became the log, its cursors and exception rows"
    );
    // The counts /metrics reads were counted from the rows.
    let mut counts = Store::open(&url, super::Synchronous::Full)
        .await
        .unwrap()
        .stats(10)
        .await
        .unwrap()
        .by_status;
    counts.sort();
    assert_eq!(
        counts,
        [
            ("forward".to_owned(), "pending".to_owned(), 1),
            ("raw".to_owned(), "delivered".to_owned(), 1),
            ("raw".to_owned(), "pending".to_owned(), 1),
        ]
    );
    let again = Store::open(&url, super::Synchronous::Full).await.unwrap();
    assert_eq!(
        again.pending_after("forward", 0, 10).await.unwrap().len(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 0.1 database with events, a retry, a dead delivery with its history and a delivered one.
const OUTBOX_WITH_HISTORY: &str = concat!(
    outbox_0_1!(),
    "CREATE TABLE inbox (message_id TEXT PRIMARY KEY, dedup_key TEXT, received_at INTEGER NOT NULL,
    event_type TEXT NOT NULL, version TEXT NOT NULL, subscription_id TEXT, timestamp TEXT NOT NULL,
    signature TEXT NOT NULL, body BLOB NOT NULL, parse_error TEXT);
CREATE TABLE attempt (id INTEGER PRIMARY KEY AUTOINCREMENT, outbox_id INTEGER NOT NULL, at INTEGER NOT NULL,
    status TEXT NOT NULL, http_status INTEGER, error TEXT);
CREATE TABLE outbox_count (output TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (output, status)) WITHOUT ROWID;
INSERT INTO inbox VALUES
    ('e1', 'chat:1', 1000, 'chat.message.sent', '1', 's', '2026-12-01T00:00:01Z', 'sig', X'7B2261223A317D', NULL),
    ('e2', 'chat:2', 2000, 'chat.message.sent', '1', 's', '2026-12-01T00:00:02Z', 'sig', X'7B2261223A327D', NULL),
    ('e3', 'chat:3', 3000, 'chat.message.sent', '1', 's', '2026-12-01T00:00:03Z', 'sig', X'7B2261223A337D', NULL);
INSERT INTO outbox (message_id, output, event_type, status, attempts, created_at, next_attempt_at, last_status, last_error, finished_at) VALUES
    ('e1', 'raw', 'chat.message.sent', 'delivered', 1, 1000, 1000, 204, NULL, 1100),
    ('e1', 'disc', 'chat.message.sent', 'dead', 2, 1000, 1000, 400, 'HTTP 400', 1500),
    ('e2', 'raw', 'chat.message.sent', 'pending', 1, 2000, 9000, 500, 'HTTP 500', NULL),
    ('e3', 'raw', 'chat.message.sent', 'pending', 0, 3000, 3000, NULL, NULL, NULL);
INSERT INTO attempt (outbox_id, at, status, http_status, error) VALUES
    (2, 1200, 'pending', 500, 'HTTP 500'), (2, 1500, 'dead', 400, 'HTTP 400'), (3, 2500, 'pending', 500, 'HTTP 500');
INSERT INTO outbox_count VALUES ('raw', 'delivered', 1), ('raw', 'pending', 2), ('disc', 'dead', 1);
"
);

#[tokio::test]
async fn every_delivery_of_0_1_keeps_its_state_history_and_order_and_new_events_follow() {
    let (dir, url) = old_database("history", OUTBOX_WITH_HISTORY);
    let store = Store::open(&url, super::Synchronous::Full).await.unwrap();
    let pending = store.pending_after("raw", 0, 10).await.unwrap();
    let queued: Vec<(&str, i64, i64)> = pending
        .iter()
        .map(|h| (h.message_id.as_str(), h.attempts, h.next_attempt_at))
        .collect();
    assert_eq!(queued, [("e2", 1, 9000), ("e3", 0, 3000)]);
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
    // A new event goes after the old ones, in the queue and in the log.
    let row = crate::store::InboxRow {
        message_id: "e4".into(),
        dedup_key: None,
        dedup_window_ms: 0,
        dedup_scope: crate::store::DedupScope::Any,
        received_at: 4000,
        event_type: "chat.message.sent".into(),
        version: "1".into(),
        subscription_id: None,
        timestamp: "2026-12-01T00:00:04Z".into(),
        signature: "sig".into(),
        body: bytes::Bytes::from_static(b"{}"),
        parse_error: None,
    };
    let to_raw = crate::store::NewDelivery {
        output: "raw".into(),
        status: Status::Pending,
        last_error: None,
    };
    store.accept(row, vec![to_raw], None).await.unwrap();
    let order: Vec<String> = store
        .pending_after("raw", 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.message_id)
        .collect();
    assert_eq!(order, ["e2", "e3", "e4"]);
    // A duplicate of an old event is still one.
    let again = crate::store::InboxRow {
        message_id: "e1".into(),
        dedup_key: None,
        dedup_window_ms: 0,
        dedup_scope: crate::store::DedupScope::Any,
        received_at: 5000,
        event_type: "chat.message.sent".into(),
        version: "1".into(),
        subscription_id: None,
        timestamp: "2026-12-01T00:00:05Z".into(),
        signature: "sig".into(),
        body: bytes::Bytes::from_static(b"{}"),
        parse_error: None,
    };
    assert_eq!(
        store.accept(again, Vec::new(), None).await.unwrap(),
        crate::store::Accepted::Duplicate
    );
    let _ = std::fs::remove_dir_all(&dir);
}
