//! A database written by an earlier development build (requests inside `outbox`) opens, keeps
//! its queue, and its pending rows go out with the request they were stored with.

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

/// The tables as the previous release created them, with the queue index over every row.
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
async fn the_queue_index_over_every_row_becomes_one_over_pending_rows() {
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
    let indexes = {
        let db = rusqlite::Connection::open(super::database_file(&url).unwrap()).unwrap();
        let names: Vec<String> = db
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'outbox' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        names
    };
    assert_eq!(indexes, ["outbox_message", "outbox_pending"]);
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
