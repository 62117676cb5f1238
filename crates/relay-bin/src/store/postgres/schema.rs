//! PostgreSQL's tables, created (or brought up to date) by whichever replica starts first.

use anyhow::Context;
use sqlx::PgPool;

/// Every step of the schema, oldest first; `meta.schema_version` says how many a database has.
/// Add a step to change the schema; never edit one that shipped.
const STEPS: &[&str] = &[
    "
CREATE TABLE inbox (
    message_id TEXT PRIMARY KEY,
    dedup_key TEXT,
    received_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    version TEXT NOT NULL,
    subscription_id TEXT,
    timestamp TEXT NOT NULL,
    signature TEXT NOT NULL,
    body BYTEA NOT NULL,
    parse_error TEXT
);
CREATE INDEX inbox_dedup ON inbox(dedup_key, received_at);
CREATE INDEX inbox_received ON inbox(received_at);
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT NOT NULL,
    output TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    finished_at BIGINT
);
CREATE INDEX outbox_queue ON outbox(output, status, id);
CREATE TABLE outbox_body (
    id BIGINT PRIMARY KEY,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    batch_line TEXT
);
CREATE TABLE attempt (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    http_status BIGINT,
    error TEXT
);
CREATE INDEX attempt_outbox ON attempt(outbox_id);
CREATE TABLE output_state (
    name TEXT PRIMARY KEY,
    disabled BOOLEAN NOT NULL,
    reason TEXT,
    changed_at BIGINT NOT NULL
);
CREATE TABLE lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
",
    "
CREATE INDEX outbox_message ON outbox(message_id);
",
    // The log, a cursor per output and rows only for exceptions (docs/ARCHITECTURE.md, "A log
    // and a cursor per output"); the inbox and outbox converted: events keep their order,
    // every outbox row becomes an exception row with its status and history. What accepts
    // change (`cursor_end`, their count rows) is apart from what outcomes change (`cursor`,
    // theirs): the two never wait for each other's rows.
    "
CREATE SEQUENCE log_seq;
CREATE TABLE log (
    seq BIGINT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    dedup_key TEXT,
    received_at BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    version TEXT NOT NULL,
    subscription_id TEXT,
    timestamp TEXT NOT NULL,
    signature TEXT NOT NULL,
    outputs TEXT NOT NULL,
    parse_error TEXT,
    body BYTEA NOT NULL
);
CREATE INDEX log_dedup ON log(dedup_key, received_at);
CREATE TABLE cursor (
    output TEXT PRIMARY KEY,
    no BIGINT NOT NULL UNIQUE,
    seq BIGINT NOT NULL
);
CREATE TABLE cursor_end (
    no BIGINT PRIMARY KEY,
    last_named BIGINT NOT NULL
);
CREATE TABLE exception (
    id BIGINT PRIMARY KEY,
    output TEXT NOT NULL,
    seq BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    finished_at BIGINT
);
CREATE INDEX exception_pending ON exception(output, id) WHERE status = 'pending';
CREATE INDEX exception_output ON exception(output, status, id);
CREATE TABLE history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    http_status BIGINT,
    error TEXT
);
CREATE INDEX history_delivery ON history(delivery_id);
CREATE TABLE stored_request (
    id BIGINT PRIMARY KEY,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    batch_line TEXT
);
CREATE TABLE delivery_count (
    output TEXT NOT NULL,
    status TEXT NOT NULL,
    writer TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (output, status, writer)
);
CREATE TEMP TABLE placed ON COMMIT DROP AS
  SELECT message_id, ROW_NUMBER() OVER (ORDER BY at, first, message_id) AS seq FROM (
    SELECT message_id, MIN(at) AS at, MIN(first) AS first FROM (
      SELECT message_id, received_at AS at, NULL::BIGINT AS first FROM inbox
      UNION ALL SELECT message_id, created_at, id FROM outbox) u
    GROUP BY message_id) m;
INSERT INTO log (seq, message_id, dedup_key, received_at, event_type, version, subscription_id,
                 timestamp, signature, outputs, parse_error, body)
  SELECT p.seq, i.message_id, i.dedup_key, i.received_at, i.event_type, i.version,
         i.subscription_id, i.timestamp, i.signature, '', i.parse_error, i.body
  FROM inbox i JOIN placed p USING (message_id);
INSERT INTO cursor (output, no, seq)
  SELECT output, ROW_NUMBER() OVER (ORDER BY output), (SELECT COALESCE(MAX(seq), 0) FROM placed)
  FROM (SELECT DISTINCT output FROM outbox) o;
INSERT INTO cursor_end (no, last_named) SELECT no, seq FROM cursor;
CREATE TEMP TABLE renumbered ON COMMIT DROP AS
  SELECT o.id AS old, (p.seq << 16) | c.no AS new, p.seq AS seq
  FROM outbox o JOIN placed p USING (message_id) JOIN cursor c ON c.output = o.output;
INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts, created_at,
                       next_attempt_at, last_status, last_error, finished_at)
  SELECT r.new, o.output, r.seq, o.message_id, o.event_type, o.status, o.attempts, o.created_at,
         o.next_attempt_at, o.last_status, o.last_error, o.finished_at
  FROM outbox o JOIN renumbered r ON r.old = o.id;
INSERT INTO history (delivery_id, at, status, http_status, error)
  SELECT r.new, a.at, a.status, a.http_status, a.error
  FROM attempt a JOIN renumbered r ON r.old = a.outbox_id ORDER BY a.id;
INSERT INTO stored_request (id, headers, body, batch_line)
  SELECT r.new, b.headers, b.body, b.batch_line FROM outbox_body b JOIN renumbered r ON r.old = b.id;
INSERT INTO delivery_count (output, status, writer, n)
  SELECT output, status, 'operator', COUNT(*) FROM exception GROUP BY output, status;
SELECT setval('log_seq', (SELECT COALESCE(MAX(seq), 0) FROM placed) + 1, false);
DROP TABLE outbox_body;
DROP TABLE attempt;
DROP TABLE outbox;
DROP TABLE inbox;
",
];

/// Advisory lock key held while the schema is checked, so replicas starting together do not
/// both create it (`kick-relay` in ASCII).
const SCHEMA_LOCK: i64 = 0x6b69_636b_7265_6c61;

/// Creates the tables or applies the steps a database lacks, under an advisory lock.
pub(super) async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut connection = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *connection)
        .await?;
    let result = apply_missing(&mut connection).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *connection)
        .await?;
    result
}

/// The database's id (`meta.database_id`), made at random the first time it is asked for.
///
/// # Errors
/// A read or write failure.
pub(super) async fn database_id(pool: &sqlx::PgPool) -> anyhow::Result<String> {
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

async fn apply_missing(connection: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        .execute(&mut *connection)
        .await
        .context("cannot create the meta table (may the role create tables?)")?;
    let version: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'schema_version'")
            .fetch_optional(&mut *connection)
            .await?;
    let have: usize = match version {
        None => 0,
        Some(v) => v
            .parse()
            .with_context(|| format!("meta.schema_version {v:?} is not a number"))?,
    };
    anyhow::ensure!(
        have <= STEPS.len(),
        "the database has schema version {have}, newer than this kick-relay knows ({}): run the newer kick-relay, or a database of its own",
        STEPS.len()
    );
    for (index, step) in STEPS.iter().enumerate().skip(have) {
        let mut tx = sqlx::Connection::begin(&mut *connection).await?;
        sqlx::raw_sql(step)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("schema step {}", index + 1))?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind((index + 1).to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(step = index + 1, "database schema step applied");
    }
    Ok(())
}
