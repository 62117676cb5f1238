//! The SQLite store (the embedded default): written by one thread that commits concurrent
//! writes in groups so durability costs one fsync per group; the queue read by a thread of its
//! own, the rest through a pool of read-only connections; no read waits for the writer.

use std::{collections::HashSet, str::FromStr, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
use sqlx::{
    Connection, SqliteConnection, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::{
    Accepted, Completion, DeliveryDetail, DeliveryRow, Head, InboxRow, NewDelivery, OutputOverview,
    Replayed, Serving, Stats, Synchronous,
    backend::Backend,
    feed::{Feed, Feeds},
};

/// Most writes committed in one transaction.
const MAX_GROUP: usize = 512;
/// Queue of writes waiting for the writer; a full queue makes ingest wait (backpressure).
const WRITE_QUEUE: usize = 4096;

enum Write {
    Accept(
        Box<(InboxRow, Vec<NewDelivery>)>,
        Option<Arc<kick_models::Delivery>>,
        oneshot::Sender<anyhow::Result<Accepted>>,
    ),
    Complete(Completion, oneshot::Sender<anyhow::Result<()>>),
    DisableOutput {
        name: String,
        reason: String,
        at: i64,
        reply: oneshot::Sender<anyhow::Result<()>>,
    },
    EnableOutput {
        name: String,
        at: i64,
        reply: oneshot::Sender<anyhow::Result<()>>,
    },
    Requeue {
        which: Replayed,
        at: i64,
        reply: oneshot::Sender<anyhow::Result<u64>>,
    },
    Recount(oneshot::Sender<anyhow::Result<()>>),
    Probe(i64, oneshot::Sender<anyhow::Result<()>>),
    Close(oneshot::Sender<anyhow::Result<()>>),
    Purge(i64, oneshot::Sender<anyhow::Result<()>>),
}

/// The SQLite store: a read pool and the writer's queue (every write, an operator's too, goes
/// through the writer).
#[derive(Debug)]
pub(super) struct SqliteStore {
    read: SqlitePool,
    writes: mpsc::Sender<Write>,
    /// The outputs' feeds, filled by the writer after each commit.
    feeds: Arc<Feeds>,
    /// The queue's read, on a thread of its own.
    reader: reader::Reader,
    /// Whether the database's path still names the file served (`serve` only).
    identity: Option<Arc<identity::FileIdentity>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database and starts the writer. For `serving`, a
    /// database that was deleted, moved or replaced since the last start is refused, and the
    /// writer checks after every commit that the path still names the file it writes.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated, or is not the one served before.
    pub(super) async fn open(
        url: &str,
        synchronous: Synchronous,
        serving: Option<Serving>,
    ) -> anyhow::Result<Self> {
        let file = database_file(url);
        if let (Some(serving), Some(path)) = (serving, &file) {
            identity::check_before_open(path, serving.start_empty)?;
            identity::create_private(path);
        }
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
        let prepared: anyhow::Result<String> = async {
            sqlx::raw_sql(SCHEMA)
                .execute(&write)
                .await
                .context("cannot create the schema")?;
            migrate(&write).await?;
            schema::database_id(&write).await
        }
        .await;
        // The schema is in place: from here on only the writer writes.
        write.close().await;
        let database_id =
            prepared.with_context(|| format!("cannot prepare database {url}{}", diagnose(url)))?;
        let identity = match (serving, &file) {
            (Some(serving), Some(path)) => {
                identity::check_marker(path, &database_id, serving.start_empty)?;
                Some(Arc::new(identity::FileIdentity::of(path)?))
            }
            _ => None,
        };
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().read_only(true))
            .await
            .with_context(|| format!("cannot open database {url} for reading"))?;
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        // Checkpoints (copying the WAL into the database file) run on their own connection,
        // off the writer's commit path; the writer's own automatic checkpoint stays as a
        // backstop far above the usual WAL size.
        let writer_connection = commit::open(
            options.get_filename(),
            synchronous,
            writer::WRITER_AUTOCHECKPOINT_PAGES,
        )?;
        let checkpoint_connection = SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("cannot open database {url} for checkpoints"))?;
        let reader = reader::Reader::start(options.get_filename())?;
        let feeds = Arc::new(Feeds::default());
        writer::start(
            writer_connection,
            checkpoint_connection,
            queue,
            Arc::clone(&feeds),
            identity.clone(),
        )
        .context("cannot start the store's writer thread")?;
        Ok(Self {
            read,
            writes,
            feeds,
            reader,
            identity,
        })
    }
}

impl SqliteStore {
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
}

#[async_trait]
impl Backend for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn accept(
        &self,
        inbox: InboxRow,
        deliveries: Vec<NewDelivery>,
        event: Option<Arc<kick_models::Delivery>>,
    ) -> anyhow::Result<Accepted> {
        self.call(|reply| Write::Accept(Box::new((inbox, deliveries)), event, reply))
            .await
    }

    fn feed(&self, output: &str) -> Option<Arc<Feed>> {
        Some(self.feeds.get(output))
    }

    fn lost(&self) -> Option<String> {
        self.identity.as_ref().and_then(|identity| identity.lost())
    }

    async fn complete_queued(
        &self,
        completion: Completion,
    ) -> anyhow::Result<oneshot::Receiver<anyhow::Result<()>>> {
        let (reply, answer) = oneshot::channel();
        self.send(Write::Complete(completion, reply)).await?;
        Ok(answer)
    }

    async fn disable_output(&self, name: &str, reason: &str, at: i64) -> anyhow::Result<()> {
        self.call(|reply| Write::DisableOutput {
            name: name.to_owned(),
            reason: reason.to_owned(),
            at,
            reply,
        })
        .await
    }

    async fn enable_output(&self, name: &str, at: i64) -> anyhow::Result<()> {
        self.call(|reply| Write::EnableOutput {
            name: name.to_owned(),
            at,
            reply,
        })
        .await
    }

    async fn requeue(&self, which: &Replayed, now: i64) -> anyhow::Result<u64> {
        let requeued = self
            .call(|reply| Write::Requeue {
                which: which.clone(),
                at: now,
                reply,
            })
            .await;
        // The rows made pending again never went through a feed: workers read the store.
        self.feeds.invalidate_all();
        requeued
    }

    async fn purge(&self, before: i64) -> anyhow::Result<()> {
        self.call(|reply| Write::Purge(before, reply)).await
    }

    async fn check_writable(&self, now: i64) -> anyhow::Result<()> {
        // A real (tiny) write through the writer: proves it can commit, and that the file
        // committed to is still the database at its path (a deleted one still takes writes).
        self.call(|reply| Write::Probe(now, reply)).await
    }

    async fn close(&self) -> anyhow::Result<()> {
        self.read.close().await;
        self.reader.close().await;
        self.call(Write::Close).await
    }

    async fn pending_after(
        &self,
        output: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Head>> {
        self.reader.pending_after(output, after, limit).await
    }

    async fn output_disabled(&self, output: &str) -> anyhow::Result<Option<String>> {
        read::output_disabled(&self.read, output).await
    }

    async fn disabled_outputs(&self) -> anyhow::Result<HashSet<String>> {
        read::disabled_outputs(&self.read).await
    }

    async fn stats(&self, now: i64) -> anyhow::Result<Stats> {
        read::stats(&self.read, now).await
    }

    async fn requeues(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(operator::REQUEUES)
            .fetch_one(&self.read)
            .await?)
    }

    async fn recount(&self) -> anyhow::Result<()> {
        self.call(Write::Recount).await
    }

    async fn list(
        &self,
        output: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        read::list(&self.read, output, status, limit).await
    }

    async fn detail(&self, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
        read::detail(&self.read, id).await
    }

    async fn overview(&self, output: &str, now: i64) -> anyhow::Result<OutputOverview> {
        read::overview(&self.read, output, now).await
    }

    /// One serving process per database file (the instance lock): it holds every lease.
    async fn try_lease(&self, _name: &str, _holder: &str, _ttl: Duration) -> anyhow::Result<bool> {
        Ok(true)
    }

    async fn release_lease(&self, _name: &str, _holder: &str) -> anyhow::Result<()> {
        Ok(())
    }

    /// The only other writers of a SQLite file are operator commands, which the workers' idle
    /// poll picks up.
    fn announcements(&self) -> Option<broadcast::Receiver<String>> {
        None
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
        Some(std::io::ErrorKind::IsADirectory) => format!(
            " ({0} is a directory; name a file in it, e.g. sqlite://{0}/kick-relay.db)",
            path.display()
        ),
        _ => String::new(),
    }
}

mod commit;
mod counts;
mod identity;
#[cfg(test)]
mod migration_tests;
mod operator;
mod read;
mod reader;
mod schema;
mod writer;

use self::schema::{SCHEMA, migrate};
