//! The SQLite store: inbox (idempotency) and outbox (durable delivery), written by one task that
//! commits concurrent writes in groups so durability costs one fsync per group.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    Connection, Row, SqliteConnection, SqlitePool,
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

/// Most writes committed in one transaction.
const MAX_GROUP: usize = 512;
/// Queue of writes waiting for the writer; a full queue makes ingest wait (backpressure).
const WRITE_QUEUE: usize = 4096;

/// SQLite's `synchronous` setting (`storage.synchronous`).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// Every commit reaches the disk before the relay answers (durable against power loss).
    #[default]
    Full,
    /// Faster; a power loss may lose the last commits (a crash of the process does not).
    Normal,
}

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

/// Which earlier inbox rows with the same second key make a delivery a duplicate.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum DedupScope {
    /// Any row in the window (a chat message id names one message, whoever sent it).
    Any,
    /// Only rows from another subscription (copies Kick sends once per duplicate
    /// subscription); a repeat from the same subscription, or without a subscription id, is new.
    OtherSubscription,
}

impl DedupScope {
    /// Whether a row of `earlier` subscription matches a delivery of `mine` under this scope.
    pub fn matches(self, mine: Option<&str>, earlier: Option<&str>) -> bool {
        match self {
            Self::Any => true,
            Self::OtherSubscription => matches!((mine, earlier), (Some(a), Some(b)) if a != b),
        }
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
    /// Which earlier rows with the same `dedup_key` make this a duplicate.
    pub dedup_scope: DedupScope,
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
    /// The line it contributes when several go out as one message (Discord chat).
    pub batch_line: Option<String>,
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
#[derive(Clone, Debug)]
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
    /// When this outcome came about (Unix ms), for the delivery's history.
    pub at: i64,
}

impl Completion {
    /// Whether the delivery's history keeps this outcome. A delivery taken at the first try
    /// needs no history row: its outbox row says all (the admin page shows it as one attempt).
    pub fn is_history(&self) -> bool {
        !(self.status == Status::Delivered && self.attempts <= 1)
    }
}

/// One entry of a delivery's history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AttemptRow {
    /// When (Unix ms).
    pub at: i64,
    /// The delivery's state after it (`pending` for a retry).
    pub status: String,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// What went wrong, or why it was not sent.
    pub error: Option<String>,
}

/// Where an output stands, for the admin page.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct OutputOverview {
    /// Pending deliveries.
    pub pending: i64,
    /// Age of the oldest pending delivery (ms).
    pub oldest_pending_ms: Option<i64>,
    /// The newest error recorded on one of its deliveries, and when.
    pub last_error: Option<(String, i64)>,
}

/// A delivery with its history and the event it carries.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeliveryDetail {
    /// The outbox row.
    pub delivery: DeliveryRow,
    /// Its history, oldest first.
    pub attempts: Vec<AttemptRow>,
    /// When it finished (Unix ms).
    pub finished_at: Option<i64>,
    /// The event's `Kick-Event-Message-Timestamp`, when the inbox still has it.
    pub event_timestamp: Option<String>,
    /// The event's body as Kick sent it, when the inbox still has it.
    pub event_body: Option<String>,
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
    /// The line it contributes when several go out as one message (Discord chat).
    pub batch_line: Option<String>,
}

/// A delivery as listed by the CLI.
#[derive(Clone, Debug, serde::Serialize)]
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
    pub async fn open(url: &str, synchronous: Synchronous) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("storage.database_url {url:?} is not a SQLite URL"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match synchronous {
                Synchronous::Normal => SqliteSynchronous::Normal,
                Synchronous::Full => SqliteSynchronous::Full,
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
            writer::WRITER_AUTOCHECKPOINT_PAGES.to_string(),
        ))
        .await
        .with_context(|| format!("cannot open database {url} for the writer"))?;
        let checkpoint_connection = SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("cannot open database {url} for checkpoints"))?;
        writer::start(writer_connection, checkpoint_connection, queue);
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
            "SELECT o.id, o.message_id, o.attempts, o.created_at, o.next_attempt_at, b.headers, b.body, b.batch_line
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
                    batch_line: row.get("batch_line"),
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

    /// The names of every output disabled in the store (by a 401/403/404/410, or by an
    /// operator's `kick-relay outputs disable`, possibly from another process).
    ///
    /// # Errors
    /// A read failure.
    pub async fn disabled_outputs(&self) -> anyhow::Result<std::collections::HashSet<String>> {
        let names = sqlx::query_scalar("SELECT name FROM output_state WHERE disabled = 1")
            .fetch_all(&self.read)
            .await?;
        Ok(names.into_iter().collect())
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

    /// One delivery with its history and event.
    ///
    /// # Errors
    /// A read failure.
    pub async fn detail(&self, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
        let Some(r) = sqlx::query(
            "SELECT o.id, o.message_id, o.output, o.event_type, o.status, o.attempts, o.created_at, o.last_status, o.last_error, o.finished_at,
                    i.timestamp AS event_timestamp, i.body AS event_body
             FROM outbox o LEFT JOIN inbox i ON i.message_id = o.message_id WHERE o.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let attempts = sqlx::query(
            "SELECT at, status, http_status, error FROM attempt WHERE outbox_id = ? ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|a| AttemptRow {
            at: a.get("at"),
            status: a.get("status"),
            http_status: a.get("http_status"),
            error: a.get("error"),
        })
        .collect();
        let body: Option<Vec<u8>> = r.get("event_body");
        Ok(Some(DeliveryDetail {
            delivery: DeliveryRow {
                id: r.get("id"),
                message_id: r.get("message_id"),
                output: r.get("output"),
                event_type: r.get("event_type"),
                status: r.get("status"),
                attempts: r.get("attempts"),
                created_at: r.get("created_at"),
                last_status: r.get("last_status"),
                last_error: r.get("last_error"),
            },
            attempts,
            finished_at: r.get("finished_at"),
            event_timestamp: r.get("event_timestamp"),
            event_body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
        }))
    }

    /// Backlog, oldest pending age and newest error of `output`.
    ///
    /// # Errors
    /// A read failure.
    pub async fn overview(&self, output: &str, now: i64) -> anyhow::Result<OutputOverview> {
        let pending = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE output = ? AND status = 'pending'",
        )
        .bind(output)
        .fetch_one(&self.read)
        .await?;
        let oldest: Option<i64> = pending.get("oldest");
        let error = sqlx::query(
            "SELECT a.error, a.at FROM attempt a JOIN outbox o ON o.id = a.outbox_id
             WHERE o.output = ? AND a.error IS NOT NULL ORDER BY a.id DESC LIMIT 1",
        )
        .bind(output)
        .fetch_optional(&self.read)
        .await?;
        Ok(OutputOverview {
            pending: pending.get("n"),
            oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
            last_error: error.map(|e| (e.get("error"), e.get("at"))),
        })
    }

    /// Queues one finished delivery again; whether there was one to queue.
    ///
    /// # Errors
    /// A write failure.
    pub async fn replay_one(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO attempt (outbox_id, at, status, error)
             SELECT id, ?1, 'pending', 'replayed by an operator' FROM outbox WHERE id = ?2 AND status IN ('dead', 'skipped', 'expired')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let queued = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, finished_at = NULL, last_error = 'replayed'
             WHERE id = ?2 AND status IN ('dead', 'skipped', 'expired')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(queued)
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
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO attempt (outbox_id, at, status, error)
             SELECT id, ?1, 'pending', 'replayed by an operator' FROM outbox
             WHERE output = ?2 AND status = ?3 AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)",
        )
        .bind(now)
        .bind(output)
        .bind(status.as_str())
        .bind(since)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        let queued = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, finished_at = NULL, last_error = 'replayed'
             WHERE output = ?2 AND status = ?3 AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)",
        )
        .bind(now)
        .bind(output)
        .bind(status.as_str())
        .bind(since)
        .bind(until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(queued)
    }

    /// Enables an output again (operator command; [`Store::disable_output`] disables).
    ///
    /// # Errors
    /// A write failure.
    pub async fn enable_output(&self, name: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, 0, '', ?2)
             ON CONFLICT(name) DO UPDATE SET disabled = 0, reason = '', changed_at = excluded.changed_at",
        )
        .bind(name)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}

/// The file a `sqlite:` URL names; `None` for an in-memory database.
pub fn database_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && !path.starts_with(':')).then(|| std::path::PathBuf::from(path))
}

/// Why a database file cannot be opened for writing, in words SQLite's "unable to open database
/// file" does not give: a read-only file system, a permission, a missing directory.
fn diagnose(url: &str) -> String {
    let Some(path) = database_file(url) else {
        return String::new();
    };
    let path = path.as_path();
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
    let has_batch_line: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pragma_table_info('outbox_body') WHERE name = 'batch_line'",
    )
    .fetch_one(pool)
    .await?;
    if has_batch_line == 0 {
        sqlx::raw_sql("ALTER TABLE outbox_body ADD COLUMN batch_line TEXT")
            .execute(pool)
            .await
            .context("cannot add outbox_body.batch_line")?;
        tracing::info!("database migrated: outbox_body.batch_line added");
    }
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

#[cfg(test)]
mod migration_tests;
mod writer;
