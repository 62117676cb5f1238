//! The SQLite store: inbox (idempotency) and outbox (durable delivery), written by one task that
//! commits concurrent writes in groups so durability costs one fsync per group.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    Connection, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::{mpsc, oneshot};

/// Most writes committed in one transaction.
const MAX_GROUP: usize = 512;
/// Queue of writes waiting for the writer; a full queue makes ingest wait (backpressure).
const WRITE_QUEUE: usize = 4096;

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

#[cfg(test)]
mod migration_tests;
mod operator;
mod read;
mod schema;
mod types;
mod writer;

use self::schema::{SCHEMA, migrate};
pub use self::types::{
    Accepted, AttemptRow, Completion, DedupScope, DeliveryDetail, DeliveryRow, Head, InboxRow,
    NewDelivery, OutputOverview, Stats, Status, Synchronous,
};
