//! Reads on threads of their own, each owning a read-only connection: a worker that is not in
//! step with its feed reads its next rows here, one hand-off per batch (through sqlx's pool
//! each row came back over a channel from the connection's thread; on one busy core that was a
//! pair of context switches every row or two, just when the worker was behind); the other
//! reads (`sqlite/read.rs`) run on a second reader.

use std::{
    path::Path,
    sync::{Mutex, PoisonError, mpsc},
    time::Duration,
};

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::oneshot;

use crate::store::{
    Head, StoredEvent,
    read::{PENDING_AFTER, request},
};

/// A read to run on the reader's thread, with its connection.
type Read = Box<dyn FnOnce(&Connection) + Send>;

/// Work for the reader's thread.
enum Job {
    /// Run this read.
    Run(Read),
    /// Close the connection and stop.
    Close(oneshot::Sender<()>),
}

/// A reader: a read-only connection owned by a thread of its own, and that thread's queue
/// (`None` once closed). The store has two: one for the workers' reads of the queue, one for
/// everything else (counts, lists, the admin page), so neither waits for the other.
#[derive(Debug)]
pub(super) struct Reader {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl Reader {
    /// Opens a read-only connection to the database at `path` (created by then) and starts
    /// the thread, named `name`, that owns it.
    ///
    /// # Errors
    /// When the database cannot be opened or the thread started.
    pub(super) fn start(path: &Path, name: &str) -> anyhow::Result<Self> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {} for reading", path.display()))?;
        connection.busy_timeout(Duration::from_secs(5))?;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(connection, &queue))
            .context("cannot start a reader thread of the store")?;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
        })
    }

    fn send(&self, job: Job) -> anyhow::Result<()> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the store is closed"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("the store's reader has stopped"))
    }

    /// Runs `read` on the reader's connection and answers what it found.
    ///
    /// # Errors
    /// What `read` fails with, or a closed store.
    pub(super) async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Run(Box::new(move |connection| {
            let _ = reply.send(read(connection));
        })))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the store's reader has stopped"))?
    }

    /// Up to `limit` pending deliveries of `output` with ids above `after`, oldest first.
    ///
    /// # Errors
    /// A read failure, or a closed store.
    pub(super) async fn pending_after(
        &self,
        output: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Head>> {
        let output = output.to_owned();
        self.read(move |connection| pending_after(connection, &output, after, limit))
            .await
    }

    /// Closes the connection (waits for the thread to have done it); later reads fail.
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.send(Job::Close(done)).is_ok() {
            let _ = closed.await;
        }
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

/// The reader's thread: answers jobs until closed (or until every handle is gone).
fn run(connection: Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        match job {
            Job::Run(read) => read(&connection),
            Job::Close(done) => {
                drop(connection);
                let _ = done.send(());
                return;
            }
        }
    }
}

fn pending_after(
    connection: &Connection,
    output: &str,
    after: i64,
    limit: i64,
) -> anyhow::Result<Vec<Head>> {
    let mut statement = connection.prepare_cached(PENDING_AFTER)?;
    let mut rows = statement.query(params![output, after, limit])?;
    let mut heads = Vec::new();
    let mut total = 0_usize;
    while let Some(row) = rows.next()? {
        let stored = match row.get::<_, Option<String>>("headers")? {
            Some(headers) => Some((headers, row.get("stored_body")?, row.get("batch_line")?)),
            None => None,
        };
        let event = match row.get::<_, Option<String>>("event_type")? {
            Some(event_type) => Some(StoredEvent {
                event_type,
                version: row.get("version")?,
                subscription_id: row.get("subscription_id")?,
                timestamp: row.get("timestamp")?,
                signature: row.get("signature")?,
                body: row.get("body")?,
            }),
            None => None,
        };
        let created_at = row.get("created_at")?;
        let head = Head {
            id: row.get("id")?,
            message_id: row.get("message_id")?,
            attempts: row.get("attempts")?,
            created_at,
            sent_at: Head::sent_at(created_at, event.as_ref().map(|e| e.timestamp.as_str())),
            next_attempt_at: row.get("next_attempt_at")?,
            request: request(stored, event)?,
        };
        total = total.saturating_add(head.bytes());
        heads.push(head);
        // Large events: stop reading once the batch holds READ_MAX_BYTES (the rest next time).
        if total >= crate::store::READ_MAX_BYTES {
            break;
        }
    }
    Ok(heads)
}
