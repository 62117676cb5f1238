//! The tables, and bringing an older database to them.

use anyhow::Context;
use rusqlite::Connection;

/// The schema; `CREATE … IF NOT EXISTS` keeps it idempotent. Times are Unix milliseconds.
///
/// The worker renders each delivery's request from its inbox row when it sends;
/// `outbox_body` holds the requests older versions stored with their rows (read when present).
const SCHEMA: &str = "
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
CREATE INDEX IF NOT EXISTS inbox_dedup ON inbox(dedup_key, received_at);
CREATE INDEX IF NOT EXISTS inbox_received ON inbox(received_at);
CREATE TABLE IF NOT EXISTS outbox (
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
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(output, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_message ON outbox(message_id);
CREATE TABLE IF NOT EXISTS outbox_count (
    output TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (output, status)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_body (
    id INTEGER PRIMARY KEY,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    batch_line TEXT
);
CREATE TABLE IF NOT EXISTS attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS attempt_outbox ON attempt(outbox_id);
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

/// Creates the tables a new database lacks, brings one created by an earlier version to the
/// current layout ([`migrate`]) and answers the database's id.
///
/// # Errors
/// A read or write failure.
pub(super) fn prepare(connection: &mut Connection) -> anyhow::Result<String> {
    connection
        .execute_batch(SCHEMA)
        .context("cannot create the schema")?;
    migrate(connection)?;
    database_id(connection)
}

/// Brings a database created by an earlier version to the current layout: the queue's index
/// holds only pending rows (it held every row with its status, so that each delivery moved
/// its entry instead of removing it; the counts by status it served come from
/// `outbox_count`, counted here when the table is new); requests stored inside `outbox`
/// (development builds of 0.1) move to `outbox_body`, the outbox keeps the state.
fn migrate(connection: &mut Connection) -> anyhow::Result<()> {
    change_if(
        connection,
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'outbox_queue')",
        "DROP INDEX outbox_queue",
        "the outbox queue index now holds pending rows only",
    )?;
    if holds(
        connection,
        "SELECT NOT EXISTS (SELECT 1 FROM outbox_count) AND EXISTS (SELECT 1 FROM outbox)",
    )? {
        let tx = connection.transaction()?;
        super::operator::recount(&tx).context("cannot count the outbox's rows")?;
        tx.commit()?;
        tracing::info!("database migrated: outbox rows counted by output and status");
    }
    change_if(
        connection,
        "SELECT NOT EXISTS (SELECT 1 FROM pragma_table_info('outbox_body') WHERE name = 'batch_line')",
        "ALTER TABLE outbox_body ADD COLUMN batch_line TEXT",
        "outbox_body.batch_line added",
    )?;
    if !holds(
        connection,
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('outbox') WHERE name IN ('headers', 'body'))",
    )? {
        return Ok(());
    }
    let tx = connection.transaction()?;
    tx.execute_batch(
        "INSERT INTO outbox_body (id, headers, body) SELECT id, headers, body FROM outbox;
         ALTER TABLE outbox DROP COLUMN headers;
         ALTER TABLE outbox DROP COLUMN body;",
    )
    .context("cannot move outbox requests to outbox_body")?;
    tx.commit()?;
    tracing::info!("database migrated: outbox requests moved to outbox_body");
    Ok(())
}

/// Runs `change` when the yes-or-no query `check` says it is needed, and logs `done`.
fn change_if(connection: &Connection, check: &str, change: &str, done: &str) -> anyhow::Result<()> {
    if holds(connection, check)? {
        connection
            .execute_batch(change)
            .with_context(|| format!("cannot migrate the database ({change})"))?;
        tracing::info!("database migrated: {done}");
    }
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
