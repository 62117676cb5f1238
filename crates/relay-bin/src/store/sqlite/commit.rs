//! One group of writes applied in one transaction, synchronously, on the writer's own thread.
//!
//! The writer's connection is a `rusqlite` connection owned by one OS thread: a group costs one hand-off to that thread and back, whatever
//! its size, and every statement stays prepared (single-row statements, cached) and binds the
//! group's data in place instead of copying it into owned arguments.

use std::{collections::HashSet, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use kick_models::Delivery;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    Write,
    counts::{self, Counts},
    operator,
};
use crate::store::{
    Accepted, Completion, Head, InboxRow, NewDelivery, Request, Status, Synchronous,
    dedup::{Job, Known, decide},
    feed::FeedRows,
};

/// Statements the writer keeps prepared (it uses about a dozen).
const STATEMENT_CACHE: usize = 32;

/// Opens the writer's connection to the database at `path`, creating the file when missing
/// and `create` says so (the schema is [`super::schema::prepare`]'s).
///
/// `autocheckpoint_pages` is the writer's own automatic checkpoint threshold: a backstop, as
/// a separate connection checkpoints off the commit path.
pub(super) fn open(
    path: &Path,
    synchronous: Synchronous,
    create: bool,
    autocheckpoint_pages: u32,
) -> anyhow::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let connection = Connection::open_with_flags(path, flags)
        .with_context(|| format!("cannot open database {} for the writer", path.display()))?;
    connection.busy_timeout(Duration::from_secs(5))?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let synchronous = match synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    connection
        .execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
             PRAGMA wal_autocheckpoint = {autocheckpoint_pages};"
        ))
        .with_context(|| {
            format!(
                "cannot set up the writer's connection to {}",
                path.display()
            )
        })?;
    Ok(connection)
}

/// Opens the connection that folds the WAL into the database file (it writes nothing else).
///
/// # Errors
/// When the database cannot be opened.
pub(super) fn open_for_checkpoints(path: &Path) -> anyhow::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open database {} for checkpoints", path.display()))?;
    connection.busy_timeout(Duration::from_secs(5))?;
    Ok(connection)
}

/// What one write of a committed group is answered with.
#[derive(Debug)]
pub(super) enum Answer {
    /// Applied, nothing to tell.
    Done,
    /// An accept's decision.
    Accepted(Accepted),
    /// How many rows a replay queued again.
    Requeued(u64),
}

/// Applies `group` in one transaction (`BEGIN IMMEDIATE` … `COMMIT`): all accepts, then all
/// send outcomes, then the rare operator writes in order, then the changes they made to the
/// outbox's counts (and a recount, when one was asked for, last). Returns one answer per
/// write. On an error nothing of the group is stored: the transaction rolls back when dropped.
pub(super) fn apply(
    connection: &mut Connection,
    group: &[Write],
) -> rusqlite::Result<(Vec<Answer>, FeedRows)> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let jobs: Vec<(&Job, Option<&Arc<Delivery>>)> = group
        .iter()
        .filter_map(|w| match w {
            Write::Accept(job, event, _) => Some((&**job, event.as_ref())),
            _ => None,
        })
        .collect();
    let mut counts = Counts::default();
    let (accepted, fed) = accept_group(&tx, &jobs, &mut counts)?;
    let mut accepted = accepted.into_iter();
    for write in group {
        if let Write::Complete(completion, _) = write {
            complete(&tx, completion, &mut counts)?;
        }
    }
    let mut results = Vec::with_capacity(group.len());
    let mut recount = false;
    for write in group {
        results.push(match write {
            Write::Accept(..) => Answer::Accepted(accepted.next().unwrap_or(Accepted::Duplicate)),
            Write::Complete(..) | Write::Close(_) => Answer::Done,
            Write::Probe(at, _) => {
                tx.prepare_cached(
                    "INSERT INTO meta (key, value) VALUES ('ready_probe', ?1) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute([at.to_string()])?;
                Answer::Done
            }
            Write::Purge(before, _) => {
                purge(&tx, *before, &mut counts)?;
                Answer::Done
            }
            Write::EnableOutput { name, at, .. } => {
                operator::enable_output(&tx, name, *at)?;
                Answer::Done
            }
            Write::Requeue { which, at, .. } => {
                Answer::Requeued(operator::requeue(&tx, which, *at, &mut counts)?)
            }
            Write::Recount(_) => {
                recount = true;
                Answer::Done
            }
            Write::DisableOutput {
                name, reason, at, ..
            } => {
                tx.execute(
                    "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, 1, ?2, ?3)
                     ON CONFLICT(name) DO UPDATE SET disabled = 1, reason = excluded.reason, changed_at = excluded.changed_at",
                    params![name, reason, at],
                )?;
                let skipped = tx.execute(
                    "UPDATE outbox SET status = 'skipped', last_error = ?1, finished_at = ?2 \
                     WHERE output = ?3 AND status = 'pending'",
                    params![format!("output disabled: {reason}"), at, name],
                )?;
                counts.moved(name, "pending", "skipped", count(skipped));
                Answer::Done
            }
        });
    }
    let mut add = tx.prepare_cached(counts::ADD)?;
    for (output, status, n) in counts.changes() {
        add.execute(params![output, status, n])?;
    }
    drop(add);
    if recount {
        operator::recount(&tx)?;
    }
    tx.commit()?;
    Ok((results, fed))
}

/// Retention: removes finished deliveries and their history older than `before`, and the
/// events no delivery may still send.
fn purge(tx: &Transaction<'_>, before: i64, counts: &mut Counts) -> rusqlite::Result<()> {
    // An event stays while a delivery of it may still be sent (pending, or dead or skipped and
    // replayable): the worker renders it from the inbox.
    tx.execute(crate::store::purge::INBOX, [before])?;
    tx.execute(
        "DELETE FROM attempt WHERE outbox_id IN (SELECT id FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?1)",
        [before],
    )?;
    tx.execute(
        "DELETE FROM outbox_body WHERE id IN (SELECT id FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?1)",
        [before],
    )?;
    let mut deleted = tx.prepare(
        "DELETE FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?1 \
         RETURNING output, status",
    )?;
    let mut rows = deleted.query([before])?;
    while let Some(row) = rows.next()? {
        counts.add(row.get_ref(0)?.as_str()?, row.get_ref(1)?.as_str()?, -1);
    }
    Ok(())
}

/// Decides duplicates for a group of accepts (against the table and within the group, in
/// order) and inserts the new ones; with the pending rows to hand to the outputs' feeds (of
/// the accepts that came with their parsed event).
fn accept_group(
    tx: &Transaction<'_>,
    accepts: &[(&Job, Option<&Arc<Delivery>>)],
    counts: &mut Counts,
) -> rusqlite::Result<(Vec<Accepted>, FeedRows)> {
    if accepts.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let jobs: Vec<&Job> = accepts.iter().map(|(job, _)| *job).collect();
    let mut known = Known::default();
    let mut stored = tx.prepare_cached("SELECT 1 FROM inbox WHERE message_id = ?1")?;
    let mut seen = tx.prepare_cached(
        "SELECT subscription_id, MAX(received_at) FROM inbox WHERE dedup_key = ?1 GROUP BY subscription_id",
    )?;
    let mut asked = HashSet::with_capacity(jobs.len());
    for (inbox, _) in jobs.iter().copied() {
        if stored
            .query_row([&inbox.message_id], |_| Ok(()))
            .optional()?
            .is_some()
        {
            known.ids.insert(inbox.message_id.clone());
        }
        let Some(key) = &inbox.dedup_key else {
            continue;
        };
        if !asked.insert(key.as_str()) {
            continue;
        }
        let rows = seen
            .query_map([key], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(Option<String>, i64)>>>()?;
        if !rows.is_empty() {
            known.keys.insert(key.clone(), rows);
        }
    }
    let (results, fresh) = decide(&jobs, known);
    // One answer per accept, in order; the fresh ones are the new ones, in the same order.
    let events: Vec<Option<&Arc<Delivery>>> = accepts
        .iter()
        .zip(&results)
        .filter(|(_, result)| matches!(result, Accepted::New(_)))
        .map(|((_, event), _)| *event)
        .collect();
    let fed = insert_fresh(tx, &fresh, &events, counts)?;
    Ok((results, fed))
}

/// Inserts new inbox rows and their outbox rows; returns the pending ones of accepts with an
/// event, as feed rows.
fn insert_fresh(
    tx: &Transaction<'_>,
    fresh: &[&Job],
    events: &[Option<&Arc<Delivery>>],
    counts: &mut Counts,
) -> rusqlite::Result<FeedRows> {
    let mut inbox_insert = tx.prepare_cached(
        "INSERT INTO inbox (message_id, dedup_key, received_at, event_type, version, subscription_id, timestamp, signature, body, parse_error) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut outbox_insert = tx.prepare_cached(
        "INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at, last_error, finished_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
    )?;
    let mut fed = Vec::new();
    for ((inbox, deliveries), event) in fresh.iter().copied().zip(events) {
        insert_inbox(&mut inbox_insert, inbox)?;
        for delivery in deliveries {
            insert_outbox(&mut outbox_insert, inbox, delivery)?;
            counts.add(&delivery.output, delivery.status.as_str(), 1);
            if delivery.status == Status::Pending {
                let head = event.map(|event| Head {
                    id: tx.last_insert_rowid(),
                    message_id: inbox.message_id.clone(),
                    attempts: 0,
                    created_at: inbox.received_at,
                    sent_at: inbox.received_at.min(
                        event
                            .headers
                            .meta
                            .timestamp
                            .unix_seconds()
                            .saturating_mul(1000),
                    ),
                    next_attempt_at: inbox.received_at,
                    request: Request::Parsed(Arc::clone(event)),
                });
                fed.push((delivery.output.clone(), head));
            }
        }
    }
    Ok(fed)
}

fn insert_inbox(
    insert: &mut rusqlite::CachedStatement<'_>,
    inbox: &InboxRow,
) -> rusqlite::Result<()> {
    insert.execute(params![
        inbox.message_id,
        inbox.dedup_key,
        inbox.received_at,
        inbox.event_type,
        inbox.version,
        inbox.subscription_id,
        inbox.timestamp,
        inbox.signature,
        &inbox.body[..],
        inbox.parse_error,
    ])?;
    Ok(())
}

fn insert_outbox(
    insert: &mut rusqlite::CachedStatement<'_>,
    inbox: &InboxRow,
    delivery: &NewDelivery,
) -> rusqlite::Result<()> {
    let finished = (delivery.status != Status::Pending).then_some(inbox.received_at);
    insert.execute(params![
        inbox.message_id,
        delivery.output,
        inbox.event_type,
        delivery.status.as_str(),
        inbox.received_at,
        delivery.last_error,
        finished,
    ])?;
    Ok(())
}

/// Records one send outcome, and its history row unless it was a first-try delivery of a row
/// without history (the outbox row says all about that one). A row gone (purged) records
/// nothing.
fn complete(tx: &Transaction<'_>, c: &Completion, counts: &mut Counts) -> rusqlite::Result<()> {
    let mut was = tx.prepare_cached("SELECT output, status FROM outbox WHERE id = ?1")?;
    let mut rows = was.query([c.id])?;
    let Some(row) = rows.next()? else {
        return Ok(());
    };
    counts.moved(
        row.get_ref(0)?.as_str()?,
        row.get_ref(1)?.as_str()?,
        c.status.as_str(),
        1,
    );
    drop(rows);
    tx.prepare_cached(
        "UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_at = ?4, last_status = ?5, \
         last_error = ?6, finished_at = ?7 WHERE id = ?1",
    )?
    .execute(params![
        c.id,
        c.status.as_str(),
        c.attempts,
        c.next_attempt_at,
        c.last_status,
        c.last_error,
        c.finished_at,
    ])?;
    tx.prepare_cached(
        "INSERT INTO attempt (outbox_id, at, status, http_status, error) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE ?6 OR EXISTS (SELECT 1 FROM attempt WHERE outbox_id = ?1)",
    )?
    .execute(params![
        c.id,
        c.at,
        c.status.as_str(),
        c.last_status,
        c.last_error,
        c.is_history(),
    ])?;
    Ok(())
}

/// A number of rows changed, as a count.
fn count(rows: usize) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}
