//! The store's single writer: commits groups of queued writes in one transaction each, on
//! its own thread (see [`super::commit`]); a checkpointer folds the WAL into the database off
//! the commit path.

use std::{sync::Arc, time::Duration};

use rusqlite::Connection;
use tokio::{sync::mpsc, time::Instant};

use super::{
    MAX_GROUP, Write,
    commit::{self, Answer},
    identity::FileIdentity,
    recent_keys::RecentKeys,
};
use crate::store::feed::Feeds;

/// The writer's own automatic checkpoint threshold (pages of 4 KiB): a backstop only.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// Starts the writer on `connection` (on a thread of its own) and its checkpointer on
/// `checkpoints`.
///
/// # Errors
/// When the thread cannot be started.
pub(super) fn start(
    connection: Connection,
    checkpoints: Connection,
    queue: mpsc::Receiver<Write>,
    feeds: Arc<Feeds>,
    identity: Option<Arc<FileIdentity>>,
    recent: RecentKeys,
) -> anyhow::Result<()> {
    let (jobs, thread_jobs) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("kick-relay-writer".into())
        .spawn(move || {
            run(
                connection,
                &thread_jobs,
                &feeds,
                identity.as_deref(),
                recent,
            );
        })?;
    let (committed, commits) = mpsc::channel(1);
    let checkpointer = tokio::spawn(checkpointer(checkpoints, commits));
    tokio::spawn(writer(jobs, queue, committed, checkpointer));
    Ok(())
}

/// What became of a group: one answer per write, or why nothing of it was stored.
type Committed = Result<Vec<Answer>, String>;

/// Work for the writer's thread.
enum Job {
    /// Commit this group and hand it back with its outcome (the async side answers the
    /// writes: waking their tasks from the runtime's own thread costs no system call, waking
    /// each from this thread did).
    Group(
        Vec<Write>,
        tokio::sync::oneshot::Sender<(Vec<Write>, Committed)>,
    ),
    /// Fold the WAL into the database and close the connection.
    Close(tokio::sync::oneshot::Sender<anyhow::Result<()>>),
}

/// The writer's thread: applies each group, hands the new rows to the feeds and the group
/// back (in that order: a worker woken by an answer finds its rows in the feed), until closed
/// (or until the async side is gone).
///
/// With an `identity` (serving), each commit is followed by a look at the database's path: a
/// group committed into a file that was deleted or replaced is answered as failed (nothing of
/// it is acknowledged), and once that happened no group is applied any more.
fn run(
    mut connection: Connection,
    jobs: &std::sync::mpsc::Receiver<Job>,
    feeds: &Feeds,
    identity: Option<&FileIdentity>,
    mut recent: RecentKeys,
) {
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Group(group, done) => {
                let committed = commit_group(&mut connection, &group, feeds, identity, &mut recent);
                let _ = done.send((group, committed));
            }
            Job::Close(done) => {
                let result = connection
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .map_err(anyhow::Error::from)
                    .and_then(|()| connection.close().map_err(|(_, err)| err.into()))
                    .map_err(|err| anyhow::anyhow!("closing the database: {err}"));
                let _ = done.send(result);
                return;
            }
        }
    }
}

/// Commits one group, unless the database's path no longer names the file served (checked
/// after each commit: a group committed into a file that is gone is answered as failed, so
/// Kick retries it, and is kept in the rescue copy).
fn commit_group(
    connection: &mut Connection,
    group: &[Write],
    feeds: &Feeds,
    identity: Option<&FileIdentity>,
    recent: &mut RecentKeys,
) -> Committed {
    let lost = |identity: &FileIdentity, connection: &Connection| {
        identity.rescue(connection);
        Err(identity.lost().unwrap_or_default())
    };
    if let Some(identity) = identity
        && identity.lost().is_some()
    {
        return lost(identity, connection);
    }
    match commit::apply(connection, group, recent) {
        Ok((results, fed)) => {
            if let Some(identity) = identity
                && identity.check().is_err()
            {
                return lost(identity, connection);
            }
            feeds.push(fed);
            Ok(results)
        }
        Err(err) => {
            tracing::error!(error = %err, writes = group.len(), "store commit failed");
            Err(err.to_string())
        }
    }
}

/// Least time between two background checkpoints.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(200);

/// Copies committed WAL frames into the database file after commits, at most every
/// [`CHECKPOINT_PAUSE`], until the writer stops. `PASSIVE` never blocks the writer or readers;
/// it runs on the blocking pool, off the runtime's threads.
async fn checkpointer(connection: Connection, mut commits: mpsc::Receiver<()>) {
    let mut connection = Some(connection);
    while commits.recv().await.is_some() {
        let Some(idle) = connection.take() else {
            return;
        };
        let checkpoint = tokio::task::spawn_blocking(move || {
            // `PRAGMA wal_checkpoint` answers a row (busy, log, checkpointed): read, not executed.
            let done = idle.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            (idle, done)
        })
        .await;
        match checkpoint {
            Ok((idle, done)) => {
                if let Err(err) = done {
                    tracing::warn!(error = %err, "WAL checkpoint failed; the next one retries");
                }
                connection = Some(idle);
            }
            Err(err) => {
                tracing::warn!(error = %err, "the WAL checkpointer stopped; the writer's own checkpoint takes over");
                return;
            }
        }
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
}

/// Least time from the start of one commit to the start of the next while requests arrive
/// concurrently. Each commit rewrites the pages it touches (index leaves, the last pages of
/// each table, the header page) in full into the WAL, with a write per frame and an fsync:
/// at thousands of events a second, committing as fast as the disk allows wrote ~40 pages
/// per commit for a handful of events each. Waiting for this cycle lets a busy group grow:
/// 3 ms against 1 ms took ~20 % fewer bytes, a third of the context switches and ~8 % less
/// CPU per fully relayed event for ~0.5 ms more median latency (docs/benchmarks/FINDINGS.md, finding
/// 26). The wait ends as soon as the group holds as many accepts as the one before (in a
/// closed loop every sender is back), and there is none after a group of one accept: a lone
/// sender (each request waits for the one before) and an idle relay commit at once.
const MIN_CYCLE: Duration = Duration::from_millis(3);

/// Gathers groups of writes and hands each to the writer's thread; after each commit nudges
/// the checkpointer (`committed` holds at most one nudge). A failed commit fails the whole
/// group (nothing in it was stored).
async fn writer(
    jobs: std::sync::mpsc::Sender<Job>,
    mut queue: mpsc::Receiver<Write>,
    committed: mpsc::Sender<()>,
    checkpoints: tokio::task::JoinHandle<()>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut closing = Vec::new();
    let mut last_start = Instant::now();
    // Accepts in the last group committed.
    let mut last_accepts = 0;
    while closing.is_empty() && queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        if last_accepts > 1 {
            gather(&mut queue, &mut group, last_start + MIN_CYCLE, last_accepts).await;
        }
        linger(&mut queue, &mut group).await;
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
        last_start = Instant::now();
        last_accepts = accepts(&group);
        let (done, emptied) = tokio::sync::oneshot::channel();
        if jobs.send(Job::Group(group, done)).is_err() {
            tracing::error!("the store's writer thread has stopped");
            return;
        }
        let Ok((mut done, outcome)) = emptied.await else {
            tracing::error!("the store's writer thread has stopped");
            return;
        };
        match outcome {
            Ok(results) => {
                let _ = committed.try_send(());
                for (write, result) in done.drain(..).zip(results) {
                    answer(write, Ok(result));
                }
            }
            Err(err) => {
                for write in done.drain(..) {
                    answer(write, Err(anyhow::anyhow!("store commit failed: {err}")));
                }
            }
        }
        group = done;
    }
    // Closing (or every handle dropped): stop the checkpointer, fold the WAL into the database
    // and close, so no file stays open and the WAL is empty.
    drop(committed);
    let _ = checkpoints.await;
    let (done, closed) = tokio::sync::oneshot::channel();
    let result = match jobs.send(Job::Close(done)) {
        Ok(()) => closed
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the store's writer thread has stopped"))),
        Err(_) => Err(anyhow::anyhow!("the store's writer thread has stopped")),
    };
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

fn accepts(group: &[Write]) -> usize {
    group
        .iter()
        .filter(|w| matches!(w, Write::Accept(..)))
        .count()
}

/// Takes what else arrives until `until` (the earliest the next commit may start, so that
/// commits are at least [`MIN_CYCLE`] apart) or until the group holds `expected` accepts;
/// returns at once when that time has passed.
async fn gather(
    queue: &mut mpsc::Receiver<Write>,
    group: &mut Vec<Write>,
    until: Instant,
    expected: usize,
) {
    // A timer set for a time already past still waits for the runtime's next tick (up to a
    // millisecond): do not set one.
    while group.len() < MAX_GROUP && accepts(group) < expected && Instant::now() < until {
        let room = MAX_GROUP - group.len();
        // `recv_many` is cancel-safe: a timeout loses nothing.
        match tokio::time::timeout_at(until, queue.recv_many(group, room)).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// How long a group of send outcomes alone waits for more writes before it commits.
///
/// Outcomes are not acknowledged to anyone: committing them late only widens what a crash
/// resends, which the workers bound (`delivery::MAX_UNCOMMITTED`). Without the wait, delivery
/// at full speed committed (and fsynced) every few outcomes.
pub(super) const COMPLETION_LINGER: Duration = Duration::from_millis(10);

/// While `group` holds only send outcomes (and is not full), waits up to
/// [`COMPLETION_LINGER`] for more writes; any other write (an accept waiting for its 200, a
/// probe, an operator write, close) ends the wait at once.
async fn linger(queue: &mut mpsc::Receiver<Write>, group: &mut Vec<Write>) {
    let only_outcomes = |group: &[Write]| group.iter().all(|w| matches!(w, Write::Complete(..)));
    let deadline = tokio::time::Instant::now() + COMPLETION_LINGER;
    while group.len() < MAX_GROUP && only_outcomes(group) {
        let room = MAX_GROUP - group.len();
        // `recv_many` is cancel-safe: a timeout loses nothing.
        match tokio::time::timeout_at(deadline, queue.recv_many(group, room)).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn answer(write: Write, result: anyhow::Result<Answer>) {
    match write {
        Write::Accept(_, _, reply) => {
            let _ = reply.send(result.map(|answer| match answer {
                Answer::Accepted(accepted) => accepted,
                _ => crate::store::Accepted::Duplicate,
            }));
        }
        Write::Requeue { reply, .. } => {
            let _ = reply.send(result.map(|answer| match answer {
                Answer::Requeued(n) => n,
                _ => 0,
            }));
        }
        Write::Purge { reply, .. } => {
            let _ = reply.send(result.map(|answer| match answer {
                Answer::Purged(next) => next,
                _ => None,
            }));
        }
        Write::Complete(_, reply)
        | Write::DisableOutput { reply, .. }
        | Write::EnableOutput { reply, .. }
        | Write::Recount(reply)
        | Write::Probe(_, reply)
        | Write::Close(reply) => {
            let _ = reply.send(result.map(drop));
        }
    }
}
