//! The SQLite store: inbox (idempotency) and outbox (durable delivery), written by one task that
//! commits concurrent writes in groups so durability costs one fsync per group.

use std::{
    collections::{HashMap, HashSet},
    str::FromStr,
    time::Duration,
};

use anyhow::Context;
use sqlx::{
    Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::{mpsc, oneshot};

/// The schema; `CREATE … IF NOT EXISTS` keeps it idempotent. Times are Unix milliseconds.
///
/// An outbox row's request (headers and body) lives in `outbox_body` under the same id: the
/// request never changes, while the row's state is updated after every attempt, and SQLite
/// rewrites a whole row (and its pages) on update.
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
CREATE INDEX IF NOT EXISTS outbox_queue ON outbox(output, status, id);
CREATE TABLE IF NOT EXISTS outbox_body (
    id INTEGER PRIMARY KEY,
    headers TEXT NOT NULL,
    body BLOB NOT NULL
);
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

/// Most writes committed in one transaction.
const MAX_GROUP: usize = 512;
/// Queue of writes waiting for the writer; a full queue makes ingest wait (backpressure).
const WRITE_QUEUE: usize = 4096;

/// A delivery row's state.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Status {
    /// Waiting to be sent (or retried).
    Pending,
    /// The output took it.
    Delivered,
    /// Permanent failure or retries exhausted; replayable.
    Dead,
    /// Not sent because the output is disabled; replayable.
    Skipped,
    /// Older than the output's `max_age_secs`.
    Expired,
}

impl Status {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
            Self::Expired => "expired",
        }
    }
}

impl FromStr for Status {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "dead" => Self::Dead,
            "skipped" => Self::Skipped,
            "expired" => Self::Expired,
            other => anyhow::bail!(
                "unknown status {other:?}: use pending, delivered, dead, skipped or expired"
            ),
        })
    }
}

/// One accepted delivery to record.
#[derive(Debug)]
pub struct InboxRow {
    /// Kick's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// Second idempotency key (chat message id, or a hash of type, version and body).
    pub dedup_key: Option<String>,
    /// How far back a matching `dedup_key` makes this a duplicate, ms.
    pub dedup_window_ms: i64,
    /// When the relay received it (Unix ms).
    pub received_at: i64,
    /// `Kick-Event-Type`.
    pub event_type: String,
    /// `Kick-Event-Version`.
    pub version: String,
    /// `Kick-Event-Subscription-Id`, when sent.
    pub subscription_id: Option<String>,
    /// `Kick-Event-Message-Timestamp`, verbatim.
    pub timestamp: String,
    /// `Kick-Event-Signature`, verbatim (for forwarding).
    pub signature: String,
    /// The body bytes.
    pub body: Vec<u8>,
    /// Why the body did not parse, if it did not.
    pub parse_error: Option<String>,
}

/// One outbox row to create with an accepted delivery.
#[derive(Debug)]
pub struct NewDelivery {
    /// The output's name.
    pub output: String,
    /// Its state.
    pub status: Status,
    /// Request headers (JSON list of pairs when stored).
    pub headers: String,
    /// The body bytes.
    pub body: Vec<u8>,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
}

/// What became of an accept.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Accepted {
    /// Stored, with this many outbox rows.
    New(usize),
    /// The message id (or the second key) was seen before: nothing stored.
    Duplicate,
}

/// The outcome of one send, to record.
#[derive(Debug)]
pub struct Completion {
    /// Row id (also the queue order).
    pub id: i64,
    /// Its state.
    pub status: Status,
    /// Attempts made.
    pub attempts: i64,
    /// Not before this time (Unix ms).
    pub next_attempt_at: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
    /// When it reached a final state (Unix ms).
    pub finished_at: Option<i64>,
}

enum Write {
    Accept(
        Box<(InboxRow, Vec<NewDelivery>)>,
        oneshot::Sender<anyhow::Result<Accepted>>,
    ),
    Complete(Completion, oneshot::Sender<anyhow::Result<()>>),
    DisableOutput {
        name: String,
        reason: String,
        at: i64,
        reply: oneshot::Sender<anyhow::Result<()>>,
    },
    Probe(i64, oneshot::Sender<anyhow::Result<()>>),
    Close(oneshot::Sender<anyhow::Result<()>>),
    Purge(i64, oneshot::Sender<anyhow::Result<()>>),
}

/// A pending delivery at the head of an output's queue.
#[derive(Clone, Debug)]
pub struct Head {
    /// Row id (also the queue order).
    pub id: i64,
    /// Kick's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// Not before this time (Unix ms).
    pub next_attempt_at: i64,
    /// Request headers (JSON list of pairs when stored).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// A delivery as listed by the CLI.
#[derive(Clone, Debug)]
pub struct DeliveryRow {
    /// Row id (also the queue order).
    pub id: i64,
    /// Kick's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// The output's name.
    pub output: String,
    /// `Kick-Event-Type`.
    pub event_type: String,
    /// Its state.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
}

/// Counts for health and metrics.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Inbox rows.
    pub inbox: i64,
    /// Outbox rows by (output, status).
    pub by_status: Vec<(String, String, i64)>,
    /// Age of the oldest pending delivery, ms.
    pub oldest_pending_ms: Option<i64>,
}

/// The store: a read pool and the writer's queue.
#[derive(Clone, Debug)]
pub struct Store {
    read: SqlitePool,
    /// The one write connection, shared with the writer task (operator commands use it
    /// directly; they are rare and serialise with the writer on the connection).
    write: SqlitePool,
    writes: mpsc::Sender<Write>,
}

impl Store {
    /// Opens (creating if needed) the database and starts the writer.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated.
    pub async fn open(url: &str, synchronous: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("storage.database_url {url:?} is not a SQLite URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if synchronous == "normal" {
                SqliteSynchronous::Normal
            } else {
                SqliteSynchronous::Full
            })
            .busy_timeout(Duration::from_secs(5));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot open database {url}{}", diagnose(url)))?;
        sqlx::raw_sql(SCHEMA)
            .execute(&write)
            .await
            .context("cannot create the schema")?;
        migrate(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().read_only(true))
            .await
            .with_context(|| format!("cannot open database {url} for reading"))?;
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        // Checkpoints (copying the WAL into the database file) run on their own connection,
        // off the writer's commit path; the writer's own automatic checkpoint stays as a
        // backstop far above the usual WAL size.
        let writer_connection = SqliteConnection::connect_with(&options.clone().pragma(
            "wal_autocheckpoint",
            WRITER_AUTOCHECKPOINT_PAGES.to_string(),
        ))
        .await
        .with_context(|| format!("cannot open database {url} for the writer"))?;
        let checkpoint_connection = SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("cannot open database {url} for checkpoints"))?;
        let (committed, commits) = mpsc::channel(1);
        let checkpoints = tokio::spawn(checkpointer(checkpoint_connection, commits));
        tokio::spawn(writer(writer_connection, queue, committed, checkpoints));
        Ok(Self {
            read,
            write,
            writes,
        })
    }

    /// Records an accepted delivery and its outbox rows in one transaction, committed with
    /// whatever else is waiting. Returns after the commit.
    ///
    /// # Errors
    /// When the commit fails (disk full, read-only, …): nothing was stored.
    pub async fn accept(
        &self,
        inbox: InboxRow,
        deliveries: Vec<NewDelivery>,
    ) -> anyhow::Result<Accepted> {
        self.call(|reply| Write::Accept(Box::new((inbox, deliveries)), reply))
            .await
    }

    /// Queues the outcome of a send without waiting for its commit; the receiver says when it
    /// was committed (completions commit in the order they were queued).
    ///
    /// # Errors
    /// When the writer has stopped.
    pub async fn complete_queued(
        &self,
        completion: Completion,
    ) -> anyhow::Result<oneshot::Receiver<anyhow::Result<()>>> {
        let (reply, answer) = oneshot::channel();
        self.send(Write::Complete(completion, reply)).await?;
        Ok(answer)
    }

    /// Marks an output disabled and its pending deliveries skipped.
    ///
    /// # Errors
    /// When the commit fails.
    pub async fn disable_output(&self, name: &str, reason: &str, at: i64) -> anyhow::Result<()> {
        self.call(|reply| Write::DisableOutput {
            name: name.to_owned(),
            reason: reason.to_owned(),
            at,
            reply,
        })
        .await
    }

    /// Up to `limit` pending deliveries of `output` with ids above `after`, oldest first.
    ///
    /// # Errors
    /// A read failure.
    pub async fn pending_after(
        &self,
        output: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Head>> {
        let rows = sqlx::query(
            "SELECT o.id, o.message_id, o.attempts, o.created_at, o.next_attempt_at, b.headers, b.body
             FROM outbox o JOIN outbox_body b ON b.id = o.id
             WHERE o.output = ? AND o.status = 'pending' AND o.id > ? ORDER BY o.id LIMIT ?",
        )
        .bind(output)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|row| {
                let headers: String = row.get("headers");
                Ok(Head {
                    id: row.get("id"),
                    message_id: row.get("message_id"),
                    attempts: row.get("attempts"),
                    created_at: row.get("created_at"),
                    next_attempt_at: row.get("next_attempt_at"),
                    headers: serde_json::from_str(&headers)
                        .context("stored headers are not JSON")?,
                    body: row.get("body"),
                })
            })
            .collect()
    }

    /// Whether `output` is disabled, and why.
    ///
    /// # Errors
    /// A read failure.
    pub async fn output_disabled(&self, output: &str) -> anyhow::Result<Option<String>> {
        let row = sqlx::query("SELECT reason FROM output_state WHERE name = ? AND disabled = 1")
            .bind(output)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|row| row.get::<Option<String>, _>("reason").unwrap_or_default()))
    }

    /// Counts for `/metrics` and `/readyz`.
    ///
    /// # Errors
    /// A read failure.
    pub async fn stats(&self, now: i64) -> anyhow::Result<Stats> {
        let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
            .fetch_one(&self.read)
            .await?;
        let rows =
            sqlx::query("SELECT output, status, COUNT(*) AS n FROM outbox GROUP BY output, status")
                .fetch_all(&self.read)
                .await?;
        let oldest: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.read)
                .await?;
        Ok(Stats {
            inbox,
            by_status: rows
                .iter()
                .map(|r| (r.get("output"), r.get("status"), r.get("n")))
                .collect(),
            oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
        })
    }

    /// Closes the database: the writer commits what was queued before, the WAL is
    /// checkpointed into the database file and truncated, every connection is closed. Later
    /// writes fail with "the store's writer has stopped".
    ///
    /// # Errors
    /// When the final checkpoint or close fails (the WAL then stays; the next open recovers it).
    pub async fn close(&self) -> anyhow::Result<()> {
        self.read.close().await;
        self.write.close().await;
        self.call(Write::Close).await
    }

    /// Checks that the database takes a write (for `/readyz`).
    ///
    /// # Errors
    /// When it does not.
    pub async fn check_writable(&self, now: i64) -> anyhow::Result<()> {
        // A real (tiny) write through the writer: proves it can commit.
        self.call(|reply| Write::Probe(now, reply)).await
    }
}

impl Store {
    /// Queues a write for the writer task.
    async fn send(&self, write: Write) -> anyhow::Result<()> {
        self.writes
            .send(write)
            .await
            .map_err(|_| anyhow::anyhow!("the store's writer has stopped"))
    }

    /// Queues a write and waits for the writer's answer (after its group's commit).
    async fn call<T>(
        &self,
        write: impl FnOnce(oneshot::Sender<anyhow::Result<T>>) -> Write,
    ) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        self.send(write(reply)).await?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the store's writer has stopped"))?
    }

    /// Deletes inbox rows received before `before` (the idempotency window has passed) and
    /// delivered or expired outbox rows finished before it. Pending, dead and skipped rows stay:
    /// they still need an operator or a send.
    ///
    /// # Errors
    /// When the commit fails.
    pub async fn purge(&self, before: i64) -> anyhow::Result<()> {
        self.call(|reply| Write::Purge(before, reply)).await
    }

    /// Deliveries, newest first.
    ///
    /// # Errors
    /// A read failure.
    pub async fn list(
        &self,
        output: Option<&str>,
        status: Option<Status>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        let rows = sqlx::query(
            "SELECT id, message_id, output, event_type, status, attempts, created_at, last_status, last_error FROM outbox
             WHERE (?1 IS NULL OR output = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3",
        )
        .bind(output)
        .bind(status.map(Status::as_str))
        .bind(limit.clamp(1, 100_000))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DeliveryRow {
                id: r.get("id"),
                message_id: r.get("message_id"),
                output: r.get("output"),
                event_type: r.get("event_type"),
                status: r.get("status"),
                attempts: r.get("attempts"),
                created_at: r.get("created_at"),
                last_status: r.get("last_status"),
                last_error: r.get("last_error"),
            })
            .collect())
    }

    /// Queues finished deliveries of `output` with `status`, created in `[since, until)`, again.
    ///
    /// # Errors
    /// A write failure.
    pub async fn replay(
        &self,
        output: &str,
        status: Status,
        since: Option<i64>,
        until: Option<i64>,
        now: i64,
    ) -> anyhow::Result<u64> {
        anyhow::ensure!(
            status != Status::Pending,
            "pending deliveries are already queued"
        );
        Ok(sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, finished_at = NULL, last_error = 'replayed'
             WHERE output = ?2 AND status = ?3 AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)",
        )
        .bind(now)
        .bind(output)
        .bind(status.as_str())
        .bind(since)
        .bind(until)
        .execute(&self.write)
        .await?
        .rows_affected())
    }

    /// Enables or disables an output (operator command).
    ///
    /// # Errors
    /// A write failure.
    pub async fn set_output_enabled(
        &self,
        name: &str,
        enabled: bool,
        reason: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET disabled = excluded.disabled, reason = excluded.reason, changed_at = excluded.changed_at",
        )
        .bind(name)
        .bind(i64::from(!enabled))
        .bind(reason)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}

/// Why a database file cannot be opened for writing, in words SQLite's "unable to open database
/// file" does not give: a read-only file system, a permission, a missing directory.
fn diagnose(url: &str) -> String {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return String::new();
    }
    let path = std::path::Path::new(path);
    let probe = if path.exists() {
        std::fs::OpenOptions::new().append(true).open(path).err()
    } else {
        match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) if !dir.is_dir() => {
                return format!(" (directory {} does not exist)", dir.display());
            }
            _ => None,
        }
    };
    match probe.map(|err| err.kind()) {
        Some(std::io::ErrorKind::ReadOnlyFilesystem) => format!(
            " (the file system holding {} is read-only; the relay must be able to write its database)",
            path.display()
        ),
        Some(std::io::ErrorKind::PermissionDenied) => format!(
            " (no permission to write {}; run the relay as a user that may)",
            path.display()
        ),
        _ => String::new(),
    }
}

/// Brings a database created before `outbox_body` existed (development builds of 0.1) to the
/// current layout: requests move to `outbox_body`, the outbox keeps the state.
async fn migrate(pool: &SqlitePool) -> anyhow::Result<()> {
    let old: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name IN ('headers', 'body')",
    )
    .fetch_one(pool)
    .await?;
    if old == 0 {
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

/// The writer's own automatic checkpoint threshold (pages of 4 KiB): a backstop only.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;
/// Least time between two background checkpoints.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(200);

/// Copies committed WAL frames into the database file after commits, at most every
/// [`CHECKPOINT_PAUSE`], until the writer stops. `PASSIVE` never blocks the writer or readers.
async fn checkpointer(mut connection: SqliteConnection, mut commits: mpsc::Receiver<()>) {
    while commits.recv().await.is_some() {
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut connection)
            .await
        {
            tracing::warn!(error = %err, "WAL checkpoint failed; the next one retries");
        }
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
    let _ = connection.close().await;
}

/// The single writer: takes every queued write, applies them in one transaction, commits once,
/// answers each. A failed commit fails the whole group (nothing in it was stored). After each
/// commit it nudges the checkpointer (`committed` holds at most one nudge).
async fn writer(
    mut connection: SqliteConnection,
    mut queue: mpsc::Receiver<Write>,
    committed: mpsc::Sender<()>,
    checkpoints: tokio::task::JoinHandle<()>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut closing = Vec::new();
    while closing.is_empty() && queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        closing.extend(
            group
                .extract_if(.., |w| matches!(w, Write::Close(_)))
                .filter_map(|w| match w {
                    Write::Close(reply) => Some(reply),
                    _ => None,
                }),
        );
        if group.is_empty() {
            continue;
        }
        match apply(&mut connection, &mut group).await {
            Ok(results) => {
                let _ = committed.try_send(());
                for (write, result) in group.drain(..).zip(results) {
                    answer(write, Ok(result));
                }
            }
            Err(err) => {
                // Leave no transaction half-open: SQLite may or may not have rolled back by
                // itself (it does on some SQLITE_FULL errors); a stray ROLLBACK is harmless.
                let _ = sqlx::query("ROLLBACK").execute(&mut connection).await;
                tracing::error!(error = %format!("{err:#}"), writes = group.len(), "store commit failed");
                let message = format!("{err:#}");
                for write in group.drain(..) {
                    answer(
                        write,
                        Err(anyhow::anyhow!("store commit failed: {message}")),
                    );
                }
            }
        }
    }
    // Closing (or every handle dropped): stop the checkpointer, fold the WAL into the database
    // and close, so no file stays open and the WAL is empty.
    drop(committed);
    let _ = checkpoints.await;
    let result = async {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut connection)
            .await?;
        connection.close().await
    }
    .await
    .map_err(|err| anyhow::anyhow!("closing the database: {err}"));
    if let Err(err) = &result {
        tracing::warn!(error = %format!("{err:#}"), "the database did not close cleanly; the next start recovers its WAL");
    }
    let message = result.as_ref().err().map(|err| format!("{err:#}"));
    for reply in closing {
        let _ = reply.send(match &message {
            None => Ok(()),
            Some(message) => Err(anyhow::anyhow!("{message}")),
        });
    }
}

fn answer(write: Write, result: anyhow::Result<Option<Accepted>>) {
    match write {
        Write::Accept(_, reply) => {
            let _ = reply.send(result.map(|r| r.unwrap_or(Accepted::Duplicate)));
        }
        Write::Complete(_, reply)
        | Write::DisableOutput { reply, .. }
        | Write::Probe(_, reply)
        | Write::Purge(_, reply)
        | Write::Close(reply) => {
            let _ = reply.send(result.map(drop));
        }
    }
}

/// Rows per multi-row statement (SQLite allows 32766 bound parameters; 10 per row here).
const ROWS_PER_STATEMENT: usize = 500;

/// Applies a group in one transaction: all accepts with a few multi-row statements, all
/// completions with one statement per chunk, then the rare operator writes in order.
///
/// The transaction is plain SQL (`BEGIN IMMEDIATE` … `COMMIT`) on the writer's own connection:
/// after a failure the caller rolls back explicitly, so no transaction state is ever carried
/// into the next group (a pooled transaction whose rollback failed could otherwise keep later
/// "commits" inside a transaction that is never committed).
async fn apply(
    connection: &mut SqliteConnection,
    group: &mut [Write],
) -> anyhow::Result<Vec<Option<Accepted>>> {
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await?;
    let tx = connection;
    let jobs: Vec<&(InboxRow, Vec<NewDelivery>)> = group
        .iter()
        .filter_map(|w| match w {
            Write::Accept(job, _) => Some(&**job),
            _ => None,
        })
        .collect();
    let mut accepted = accept_group(tx, &jobs).await?.into_iter();
    let completions: Vec<&Completion> = group
        .iter()
        .filter_map(|w| match w {
            Write::Complete(c, _) => Some(c),
            _ => None,
        })
        .collect();
    complete_group(tx, &completions).await?;
    let mut results = Vec::with_capacity(group.len());
    for write in group.iter() {
        results.push(match write {
            Write::Accept(..) => accepted.next(),
            Write::Complete(..) | Write::Close(_) => None,
            Write::Probe(at, _) => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('ready_probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                    .bind(at.to_string())
                    .execute(&mut *tx)
                    .await?;
                None
            }
            Write::Purge(before, _) => {
                sqlx::query("DELETE FROM inbox WHERE received_at < ?")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM outbox_body WHERE id IN (SELECT id FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?)")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                None
            }
            Write::DisableOutput { name, reason, at, .. } => {
                sqlx::query(
                    "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?, 1, ?, ?)
                     ON CONFLICT(name) DO UPDATE SET disabled = 1, reason = excluded.reason, changed_at = excluded.changed_at",
                )
                .bind(name)
                .bind(reason)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE outbox SET status = 'skipped', last_error = ?, finished_at = ? WHERE output = ? AND status = 'pending'")
                    .bind(format!("output disabled: {reason}"))
                    .bind(at)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                None
            }
        });
    }
    sqlx::query("COMMIT").execute(&mut *tx).await?;
    Ok(results)
}

/// Decides duplicates for a group of accepts (against the table and within the group, in
/// order) and inserts the new ones with multi-row statements.
async fn accept_group(
    tx: &mut SqliteConnection,
    jobs: &[&(InboxRow, Vec<NewDelivery>)],
) -> anyhow::Result<Vec<Accepted>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut known_ids: HashSet<String> = HashSet::new();
    let mut latest_key: HashMap<String, i64> = HashMap::new();
    for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
        let mut ids =
            QueryBuilder::<Sqlite>::new("SELECT message_id FROM inbox WHERE message_id IN (");
        let mut list = ids.separated(", ");
        for job in chunk {
            list.push_bind(&job.0.message_id);
        }
        ids.push(")");
        for row in ids.build().fetch_all(&mut *tx).await? {
            known_ids.insert(row.get("message_id"));
        }
        let keys: Vec<&String> = chunk
            .iter()
            .filter_map(|job| job.0.dedup_key.as_ref())
            .collect();
        if !keys.is_empty() {
            let mut query = QueryBuilder::<Sqlite>::new(
                "SELECT dedup_key, MAX(received_at) AS latest FROM inbox WHERE dedup_key IN (",
            );
            let mut list = query.separated(", ");
            for key in keys {
                list.push_bind(key);
            }
            query.push(") GROUP BY dedup_key");
            for row in query.build().fetch_all(&mut *tx).await? {
                latest_key.insert(row.get("dedup_key"), row.get("latest"));
            }
        }
    }
    let mut results = Vec::with_capacity(jobs.len());
    let mut fresh: Vec<&(InboxRow, Vec<NewDelivery>)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let inbox = &job.0;
        let key_seen = inbox
            .dedup_key
            .as_ref()
            .and_then(|k| latest_key.get(k))
            .is_some_and(|latest| {
                *latest >= inbox.received_at.saturating_sub(inbox.dedup_window_ms)
            });
        if known_ids.contains(&inbox.message_id) || key_seen {
            results.push(Accepted::Duplicate);
            continue;
        }
        known_ids.insert(inbox.message_id.clone());
        if let Some(key) = &inbox.dedup_key {
            latest_key.insert(key.clone(), inbox.received_at);
        }
        results.push(Accepted::New(job.1.len()));
        fresh.push(job);
    }
    insert_fresh(tx, &fresh).await?;
    Ok(results)
}

/// Inserts new inbox rows and their outbox rows with multi-row statements.
async fn insert_fresh(
    tx: &mut SqliteConnection,
    fresh: &[&(InboxRow, Vec<NewDelivery>)],
) -> anyhow::Result<()> {
    for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO inbox (message_id, dedup_key, received_at, event_type, version, subscription_id, timestamp, signature, body, parse_error) ",
        );
        insert.push_values(chunk, |mut row, job| {
            let inbox = &job.0;
            row.push_bind(&inbox.message_id)
                .push_bind(&inbox.dedup_key)
                .push_bind(inbox.received_at)
                .push_bind(&inbox.event_type)
                .push_bind(&inbox.version)
                .push_bind(&inbox.subscription_id)
                .push_bind(&inbox.timestamp)
                .push_bind(&inbox.signature)
                .push_bind(&inbox.body)
                .push_bind(&inbox.parse_error);
        });
        insert.build().execute(&mut *tx).await?;
    }
    let rows: Vec<(&InboxRow, &NewDelivery)> = fresh
        .iter()
        .flat_map(|job| job.1.iter().map(move |delivery| (&job.0, delivery)))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at, last_error, finished_at) ",
        );
        insert.push_values(chunk, |mut row, (inbox, delivery)| {
            let finished = (delivery.status != Status::Pending).then_some(inbox.received_at);
            row.push_bind(&inbox.message_id)
                .push_bind(&delivery.output)
                .push_bind(&inbox.event_type)
                .push_bind(delivery.status.as_str())
                .push_bind(inbox.received_at)
                .push_bind(inbox.received_at)
                .push_bind(&delivery.last_error)
                .push_bind(finished);
        });
        // RETURNING's row order is unspecified: match ids back by (message id, output), which
        // is unique within a group (duplicates were dropped above).
        insert.push(" RETURNING id, message_id, output");
        let mut ids: HashMap<(String, String), i64> = HashMap::with_capacity(chunk.len());
        for row in insert.build().fetch_all(&mut *tx).await? {
            ids.insert((row.get("message_id"), row.get("output")), row.get("id"));
        }
        let mut bodies =
            QueryBuilder::<Sqlite>::new("INSERT INTO outbox_body (id, headers, body) ");
        bodies.push_values(chunk, |mut row, (inbox, delivery)| {
            let id = ids
                .get(&(inbox.message_id.clone(), delivery.output.clone()))
                .copied();
            row.push_bind(id)
                .push_bind(&delivery.headers)
                .push_bind(&delivery.body);
        });
        bodies.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Records send outcomes: one `UPDATE … FROM (VALUES …)` per chunk.
async fn complete_group(
    tx: &mut SqliteConnection,
    completions: &[&Completion],
) -> anyhow::Result<()> {
    for chunk in completions.chunks(ROWS_PER_STATEMENT) {
        let mut update = QueryBuilder::<Sqlite>::new(
            // SQLite names VALUES columns column1, column2, …: id, status, attempts,
            // next_attempt_at, last_status, last_error, finished_at.
            "UPDATE outbox SET status = v.column2, attempts = v.column3, next_attempt_at = v.column4, \
             last_status = v.column5, last_error = v.column6, finished_at = v.column7 FROM (",
        );
        update.push_values(chunk, |mut row, c| {
            row.push_bind(c.id)
                .push_bind(c.status.as_str())
                .push_bind(c.attempts)
                .push_bind(c.next_attempt_at)
                .push_bind(c.last_status)
                .push_bind(&c.last_error)
                .push_bind(c.finished_at);
        });
        update.push(") AS v WHERE outbox.id = v.column1");
        update.build().execute(&mut *tx).await?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "store_migration_tests.rs"]
mod migration_tests;
