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

use super::cursors;
use crate::store::{
    Head, StoredEvent, ids,
    log::{merge_reads, take_heads},
    read::request,
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

/// Columns of a queued delivery read from the exception rows (`e`, with `b` and `l`) or from
/// the log alone (`l`), in the same order: see [`head`].
const EVENT_COLUMNS: &str =
    "l.event_type, l.version, l.subscription_id, l.timestamp, l.signature, l.body";

/// Output `output`'s pending deliveries with ids above `after`, oldest first, at most `limit`
/// (and at most `READ_MAX_BYTES` of events): its pending exception rows (retries, replays)
/// merged with the events above its cursor that it takes and that have no row.
fn pending_after(
    connection: &Connection,
    output: &str,
    after: i64,
    limit: i64,
) -> anyhow::Result<Vec<Head>> {
    let Some(cursor) = cursors::of(connection, output)? else {
        return Ok(Vec::new());
    };
    let explicit = connection.prepare_cached(&format!(
        "SELECT e.id, e.message_id, e.attempts, e.created_at, e.next_attempt_at,
            b.headers, b.body AS stored_body, b.batch_line, {EVENT_COLUMNS}
         FROM exception e
         LEFT JOIN stored_request b ON b.id = e.id
         LEFT JOIN log l ON l.seq = e.seq
         WHERE e.output = ?1 AND e.status = 'pending' AND e.id > ?2 ORDER BY e.id LIMIT ?3"
    ))?;
    let first = read_heads(explicit, params![output, after, limit], limit)?;
    let (after_seq, _) = ids::split(after);
    let from = cursor.seq.max(after_seq - 1);
    let second = if cursor.last_named > from {
        let plain = connection.prepare_cached(&format!(
            "SELECT (l.seq << 16) | ?1 AS id, l.message_id, 0 AS attempts, l.received_at AS created_at,
                l.received_at AS next_attempt_at, NULL AS headers, NULL AS stored_body, NULL AS batch_line,
                {EVENT_COLUMNS}
             FROM log l
             WHERE l.seq > ?3 AND l.seq <= ?4 AND ((l.seq << 16) | ?1) > ?5 AND instr(l.outputs, ?2)
               AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | ?1)
             ORDER BY l.seq LIMIT ?6"
        ))?;
        let parameters = params![
            cursor.no,
            ids::mark(cursor.no),
            from,
            cursor.last_named,
            after,
            limit
        ];
        read_heads(plain, parameters, limit)?
    } else {
        (Vec::new(), i64::MAX)
    };
    Ok(merge_reads(first, second, limit))
}

/// The deliveries `statement` reads, as [`take_heads`] takes them.
fn read_heads(
    mut statement: rusqlite::CachedStatement<'_>,
    parameters: impl rusqlite::Params,
    limit: i64,
) -> anyhow::Result<(Vec<Head>, i64)> {
    let mut rows = statement.query(parameters)?;
    let mut failed = None;
    let heads = std::iter::from_fn(|| match rows.next() {
        Ok(row) => row.map(head),
        Err(err) => {
            failed = Some(err);
            None
        }
    });
    let taken = take_heads(heads, limit)?;
    match failed {
        Some(err) => Err(err.into()),
        None => Ok(taken),
    }
}

/// A queued delivery from a row of [`pending_after`]'s reads.
fn head(row: &rusqlite::Row<'_>) -> anyhow::Result<Head> {
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
    Ok(Head {
        id: row.get("id")?,
        message_id: row.get("message_id")?,
        attempts: row.get("attempts")?,
        created_at,
        sent_at: Head::sent_at(created_at, event.as_ref().map(|e| e.timestamp.as_str())),
        next_attempt_at: row.get("next_attempt_at")?,
        request: request(stored, event)?,
    })
}
