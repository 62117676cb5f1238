//! The SQLite store (the embedded default), on one driver (rusqlite): written by one thread
//! that commits concurrent writes in groups so durability costs one fsync per group; the queue
//! read by a thread of its own, the other reads by another; no read waits for the writer.

use std::{collections::HashSet, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use async_trait::async_trait;
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
    Purge {
        /// Events received before this time may go.
        before: i64,
        /// The first event to look at.
        from: i64,
        /// Where to go on from, when more is left.
        reply: oneshot::Sender<anyhow::Result<Option<i64>>>,
    },
}

/// The SQLite store: two readers and the writer's queue (every write, an operator's too, goes
/// through the writer).
#[derive(Debug)]
pub(super) struct SqliteStore {
    /// Counts, lists, details, output states: on a thread of their own.
    reads: reader::Reader,
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
        let (path, create) = sqlite_path(url)?;
        if let Some(serving) = serving {
            identity::check_before_open(&path, serving.start_empty)?;
            identity::create_private(&path);
        }
        // Opening and migrating may read and write a large file: off the runtime's threads.
        let opening = path.clone();
        let (writer_connection, prepared) = tokio::task::spawn_blocking(move || {
            let mut connection = commit::open(
                &opening,
                synchronous,
                create,
                writer::WRITER_AUTOCHECKPOINT_PAGES,
            )?;
            // The body keys of the last 30 s, for the writer's duplicate check.
            let prepared = schema::prepare(&mut connection).and_then(|id| {
                let recent = recent_keys::RecentKeys::load(&connection)
                    .context("cannot read the body keys of the log's last 30 s")?;
                Ok((id, recent))
            });
            anyhow::Ok((connection, prepared))
        })
        .await
        .context("the database's opening stopped")?
        .with_context(|| format!("cannot open database {url}{}", diagnose(url)))?;
        let (database_id, recent) =
            prepared.with_context(|| format!("cannot prepare database {url}{}", diagnose(url)))?;
        let identity = match serving {
            Some(serving) => {
                identity::check_marker(&path, &database_id, serving.start_empty)?;
                Some(Arc::new(identity::FileIdentity::of(&path)?))
            }
            None => None,
        };
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        // Checkpoints (copying the WAL into the database file) run on their own connection,
        // off the writer's commit path; the writer's own automatic checkpoint stays as a
        // backstop far above the usual WAL size.
        let checkpoint_connection = commit::open_for_checkpoints(&path)?;
        let reader = reader::Reader::start(&path, "kick-relay-queue")?;
        let reads = reader::Reader::start(&path, "kick-relay-reads")?;
        let feeds = Arc::new(Feeds::default());
        writer::start(
            writer_connection,
            checkpoint_connection,
            queue,
            Arc::clone(&feeds),
            identity.clone(),
            recent,
        )
        .context("cannot start the store's writer thread")?;
        Ok(Self {
            reads,
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
        // In chunks (`operator::PURGE_CHUNK` events each): accepts commit in between.
        let mut from = 0;
        while let Some(next) = self
            .call(|reply| Write::Purge {
                before,
                from,
                reply,
            })
            .await?
        {
            from = next;
        }
        Ok(())
    }

    async fn check_writable(&self, now: i64) -> anyhow::Result<()> {
        // A real (tiny) write through the writer: proves it can commit, and that the file
        // committed to is still the database at its path (a deleted one still takes writes).
        self.call(|reply| Write::Probe(now, reply)).await
    }

    async fn close(&self) -> anyhow::Result<()> {
        self.reads.close().await;
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
        let output = output.to_owned();
        self.reads
            .read(move |c| read::output_disabled(c, &output))
            .await
    }

    async fn disabled_outputs(&self) -> anyhow::Result<HashSet<String>> {
        self.reads.read(read::disabled_outputs).await
    }

    async fn stats(&self, now: i64) -> anyhow::Result<Stats> {
        self.reads.read(move |c| read::stats(c, now)).await
    }

    async fn requeues(&self) -> anyhow::Result<i64> {
        self.reads.read(read::requeues).await
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
        let (output, status) = (output.map(str::to_owned), status.map(str::to_owned));
        self.reads
            .read(move |c| read::list(c, output.as_deref(), status.as_deref(), limit))
            .await
    }

    async fn detail(&self, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
        self.reads.read(move |c| read::detail(c, id)).await
    }

    async fn overview(&self, output: &str, now: i64) -> anyhow::Result<OutputOverview> {
        let output = output.to_owned();
        self.reads
            .read(move |c| read::overview(c, &output, now))
            .await
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

/// The file a `sqlite:` URL names, and whether to create it when missing (`?mode=rwc`, the
/// default; `?mode=rw` opens only an existing file).
///
/// # Errors
/// A URL that names no file (an in-memory database would lose every event at exit), or asks
/// for anything else.
fn sqlite_path(url: &str) -> anyhow::Result<(PathBuf, bool)> {
    let path = database_file(url).with_context(|| {
        format!(
            "storage.database_url {url:?} names no database file: the relay keeps its events in a file, e.g. sqlite://kick-relay.db"
        )
    })?;
    let create = match url.split_once('?').map(|(_, query)| query) {
        None | Some("" | "mode=rwc") => true,
        Some("mode=rw") => false,
        Some(other) => anyhow::bail!(
            "storage.database_url {url:?}: {other:?} is not understood; leave the query out, or write ?mode=rw to open only an existing database"
        ),
    };
    Ok((path, create))
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
mod cursors;
mod identity;
#[cfg(test)]
mod migration_tests;
mod operator;
mod read;
mod reader;
mod recent_keys;
mod schema;
mod settle;
mod writer;

#[cfg(test)]
mod url_tests {
    use super::sqlite_path;

    #[test]
    fn a_url_names_a_file_and_whether_to_create_it() {
        let (path, create) = sqlite_path("sqlite://kick-relay.db").unwrap();
        assert_eq!(path, std::path::Path::new("kick-relay.db"));
        assert!(create);
        assert!(sqlite_path("sqlite:///srv/relay.db?mode=rwc").unwrap().1);
        assert!(!sqlite_path("sqlite:///srv/relay.db?mode=rw").unwrap().1);
    }

    #[test]
    fn a_url_without_a_file_or_with_another_query_is_refused_saying_why() {
        let memory = sqlite_path("sqlite::memory:").unwrap_err().to_string();
        assert!(memory.contains("names no database file"), "{memory}");
        let other = sqlite_path("sqlite://relay.db?mode=ro")
            .unwrap_err()
            .to_string();
        assert!(other.contains("\"mode=ro\" is not understood"), "{other}");
        assert!(other.contains("?mode=rw"), "{other}");
    }
}
