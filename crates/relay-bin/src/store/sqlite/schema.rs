//! The tables, and bringing an older database to them.

use anyhow::Context;
use sqlx::SqlitePool;

/// The schema; `CREATE … IF NOT EXISTS` keeps it idempotent. Times are Unix milliseconds.
///
/// The worker renders each delivery's request from its inbox row when it sends;
/// `outbox_body` holds the requests older versions stored with their rows (read when present).
pub(super) const SCHEMA: &str = "
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

/// Brings a database created by an earlier version to the current layout: the queue's index
/// holds only pending rows (it held every row with its status, so that each delivery moved
/// its entry instead of removing it; the counts by status it served come from
/// `outbox_count`, counted here when the table is new); requests stored inside `outbox`
/// (development builds of 0.1) move to `outbox_body`, the outbox keeps the state.
pub(super) async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    change_if(
        pool,
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'outbox_queue')",
        "DROP INDEX outbox_queue",
        "the outbox queue index now holds pending rows only",
    )
    .await?;
    if holds(
        pool,
        "SELECT NOT EXISTS (SELECT 1 FROM outbox_count) AND EXISTS (SELECT 1 FROM outbox)",
    )
    .await?
    {
        recount(pool).await?;
        tracing::info!("database migrated: outbox rows counted by output and status");
    }
    change_if(
        pool,
        "SELECT NOT EXISTS (SELECT 1 FROM pragma_table_info('outbox_body') WHERE name = 'batch_line')",
        "ALTER TABLE outbox_body ADD COLUMN batch_line TEXT",
        "outbox_body.batch_line added",
    )
    .await?;
    if !holds(
        pool,
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('outbox') WHERE name IN ('headers', 'body'))",
    )
    .await?
    {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(
        "INSERT INTO outbox_body (id, headers, body) SELECT id, headers, body FROM outbox;
         ALTER TABLE outbox DROP COLUMN headers;
         ALTER TABLE outbox DROP COLUMN body;",
    )
    .execute(&mut *tx)
    .await
    .context("cannot move outbox requests to outbox_body")?;
    tx.commit().await?;
    tracing::info!("database migrated: outbox requests moved to outbox_body");
    Ok(())
}

/// Runs `change` when the yes-or-no query `check` says it is needed, and logs `done`.
async fn change_if(pool: &SqlitePool, check: &str, change: &str, done: &str) -> anyhow::Result<()> {
    if holds(pool, check).await? {
        sqlx::raw_sql(change)
            .execute(pool)
            .await
            .with_context(|| format!("cannot migrate the database ({change})"))?;
        tracing::info!("database migrated: {done}");
    }
    Ok(())
}

/// What the yes-or-no query `sql` answers about the database.
async fn holds(pool: &SqlitePool, sql: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// Counts the outbox's rows by output and status again, in one transaction.
async fn recount(pool: &SqlitePool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for statement in super::counts::RECOUNT {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .context("cannot count the outbox's rows")?;
    }
    tx.commit().await?;
    Ok(())
}

/// The database's id (`meta.database_id`), made at random the first time it is asked for.
///
/// # Errors
/// A read or write failure.
pub(super) async fn database_id(pool: &SqlitePool) -> anyhow::Result<String> {
    use crate::store::database_id;
    sqlx::query(database_id::RECORD)
        .bind(database_id::new()?)
        .execute(pool)
        .await
        .context("cannot record the database's id")?;
    Ok(sqlx::query_scalar(database_id::READ)
        .fetch_one(pool)
        .await?)
}
