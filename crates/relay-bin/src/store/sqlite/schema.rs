//! The tables, and bringing an older database to them.
//!
//! The store is a log of accepted events, a cursor per output and rows only for the deliveries
//! that were not simply delivered (see `sqlite/log.rs` for how they are read together).

use anyhow::Context;
use rusqlite::{Connection, Transaction};

/// The schema; `CREATE … IF NOT EXISTS` keeps it idempotent. Times are Unix milliseconds.
///
/// - `log`: one row per accepted event, `seq` its place in Kick's arrival order (never reused:
///   `AUTOINCREMENT`), `outputs` the numbers of the outputs that take it (`,1,3,`),
///   `dedup_key` its durable second key (a chat message's or a Drops claim's id; a body key
///   lives in the writer's memory for its 30 s, `recent_keys.rs`, and is `NULL` here; rows of
///   earlier builds may hold one), indexed only where present (`log_key`).
/// - `cursor`: per output its number, the `seq` up to which everything it takes is settled,
///   and the newest `seq` it takes (`last_named`; nothing above is for it).
/// - `exception`: a delivery that was retried, dead, skipped, expired or replayed, under its
///   delivery id (`seq << 16 | output number`); `history` holds its attempts.
/// - `stored_request`: requests stored with their rows by development builds of 0.1.
/// - `delivery_count`: deliveries by output and status, kept by every write.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    dedup_key TEXT,
    received_at INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    version TEXT NOT NULL,
    subscription_id TEXT,
    timestamp TEXT NOT NULL,
    signature TEXT NOT NULL,
    outputs TEXT NOT NULL,
    parse_error TEXT,
    body BLOB NOT NULL
);
DROP INDEX IF EXISTS log_dedup;
CREATE INDEX IF NOT EXISTS log_key ON log(dedup_key, received_at) WHERE dedup_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS cursor (
    output TEXT PRIMARY KEY,
    no INTEGER NOT NULL UNIQUE,
    seq INTEGER NOT NULL,
    last_named INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS exception (
    id INTEGER PRIMARY KEY,
    output TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS exception_pending ON exception(output, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS exception_output ON exception(output, status, id);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS history_delivery ON history(delivery_id);
CREATE TABLE IF NOT EXISTS stored_request (
    id INTEGER PRIMARY KEY,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    batch_line TEXT
);
CREATE TABLE IF NOT EXISTS delivery_count (
    output TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (output, status)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS output_state (
    name TEXT PRIMARY KEY,
    disabled INTEGER NOT NULL,
    reason TEXT,
    changed_at INTEGER NOT NULL
);
";

/// The tables of 0.1 (an inbox and an outbox row per delivery), as far as [`upgrade_outbox`]
/// reads them: created when missing so that a database of any earlier build converts.
const OUTBOX_TABLES: &str = "
CREATE TABLE IF NOT EXISTS inbox (
    message_id TEXT PRIMARY KEY,
    dedup_key TEXT,
    received_at INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    version TEXT NOT NULL,
    subscription_id TEXT,
    timestamp TEXT NOT NULL,
    signature TEXT NOT NULL,
    body BLOB NOT NULL,
    parse_error TEXT
);
CREATE TABLE IF NOT EXISTS outbox_body (
    id INTEGER PRIMARY KEY,
    headers TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    error TEXT
);
";

/// Creates the tables a new database lacks, converts one written by an earlier version
/// ([`upgrade_outbox`]) and answers the database's id.
///
/// # Errors
/// A read or write failure.
pub(super) fn prepare(connection: &mut Connection) -> anyhow::Result<String> {
    if holds(
        connection,
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'outbox')",
    )? {
        let tx = connection.transaction()?;
        upgrade_outbox(&tx).context("cannot convert the outbox to the delivery log")?;
        tx.commit()?;
        tracing::info!("database migrated: the outbox became the delivery log and its cursors");
    }
    connection
        .execute_batch(SCHEMA)
        .context("cannot create the schema")?;
    database_id(connection)
}

/// Converts the tables of 0.1 (an inbox, and an outbox row per output and event) to the log:
/// every event keeps its place (events ordered by when they arrived, then by their first
/// outbox row), every outbox row becomes an exception row with its status, attempts and
/// history, so nothing is sent again and nothing pending is left out; each output's cursor
/// starts past the log's end (its pending rows are exception rows, sent first).
fn upgrade_outbox(tx: &Transaction<'_>) -> anyhow::Result<()> {
    tx.execute_batch(OUTBOX_TABLES)?;
    // Development builds stored each request inside its outbox row.
    if holds(
        tx,
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('outbox') WHERE name = 'headers')",
    )? {
        tx.execute_batch(
            "INSERT INTO outbox_body (id, headers, body) SELECT id, headers, body FROM outbox",
        )?;
    }
    let batch_line = if holds(
        tx,
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('outbox_body') WHERE name = 'batch_line')",
    )? {
        "b.batch_line"
    } else {
        "NULL"
    };
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE placed AS
           SELECT message_id, ROW_NUMBER() OVER (ORDER BY at, first, message_id) AS seq FROM (
             SELECT message_id, MIN(at) AS at, MIN(first) AS first FROM (
               SELECT message_id, received_at AS at, NULL AS first FROM inbox
               UNION ALL SELECT message_id, created_at, id FROM outbox)
             GROUP BY message_id);
         INSERT INTO log (seq, message_id, dedup_key, received_at, event_type, version,
                          subscription_id, timestamp, signature, outputs, parse_error, body)
           SELECT p.seq, i.message_id, i.dedup_key, i.received_at, i.event_type, i.version,
                  i.subscription_id, i.timestamp, i.signature, '', i.parse_error, i.body
           FROM inbox i JOIN placed p USING (message_id) ORDER BY p.seq;
         INSERT INTO cursor (output, no, seq, last_named)
           SELECT output, ROW_NUMBER() OVER (ORDER BY output),
                  (SELECT COALESCE(MAX(seq), 0) FROM placed), (SELECT COALESCE(MAX(seq), 0) FROM placed)
           FROM (SELECT DISTINCT output FROM outbox);
         CREATE TEMP TABLE renumbered AS
           SELECT o.id AS old, (p.seq << 16) | c.no AS new, p.seq AS seq
           FROM outbox o JOIN placed p USING (message_id) JOIN cursor c ON c.output = o.output;
         INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts,
                                created_at, next_attempt_at, last_status, last_error, finished_at)
           SELECT r.new, o.output, r.seq, o.message_id, o.event_type, o.status, o.attempts,
                  o.created_at, o.next_attempt_at, o.last_status, o.last_error, o.finished_at
           FROM outbox o JOIN renumbered r ON r.old = o.id;
         INSERT INTO history (delivery_id, at, status, http_status, error)
           SELECT r.new, a.at, a.status, a.http_status, a.error
           FROM attempt a JOIN renumbered r ON r.old = a.outbox_id ORDER BY a.id;
         INSERT INTO stored_request (id, headers, body, batch_line)
           SELECT r.new, b.headers, b.body, {batch_line}
           FROM outbox_body b JOIN renumbered r ON r.old = b.id;
         INSERT INTO delivery_count (output, status, n)
           SELECT output, status, COUNT(*) FROM exception GROUP BY output, status;
         INSERT INTO sqlite_sequence (name, seq)
           SELECT 'log', MAX(seq) FROM placed WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'log')
           AND EXISTS (SELECT 1 FROM placed);
         UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT COALESCE(MAX(seq), 0) FROM placed))
           WHERE name = 'log';
         DROP TABLE placed;
         DROP TABLE renumbered;
         DROP TABLE outbox;
         DROP TABLE inbox;
         DROP TABLE attempt;
         DROP TABLE outbox_body;
         DROP TABLE IF EXISTS outbox_count;"
    ))?;
    Ok(())
}

/// What the yes-or-no query `sql` answers about the database.
fn holds(connection: &Connection, sql: &str) -> anyhow::Result<bool> {
    Ok(connection.query_row(sql, [], |row| row.get(0))?)
}

/// The database's id (`meta.database_id`), made at random the first time it is asked for.
///
/// # Errors
/// A read or write failure.
fn database_id(connection: &Connection) -> anyhow::Result<String> {
    use crate::store::database_id;
    connection
        .execute(database_id::RECORD, [database_id::new()?])
        .context("cannot record the database's id")?;
    Ok(connection.query_row(database_id::READ, [], |row| row.get(0))?)
}
