//! One group of writes applied in one transaction, synchronously, on the writer's own thread.
//!
//! The writer's connection is a `rusqlite` connection owned by one OS thread: a group costs one hand-off to that thread and back, whatever
//! its size, and every statement stays prepared (single-row statements, cached) and binds the
//! group's data in place instead of copying it into owned arguments.

use std::{collections::HashSet, fmt::Write as _, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use kick_models::Delivery;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    Write,
    counts::{self, Counts},
    cursors, operator,
    recent_keys::RecentKeys,
    settle,
};
use crate::store::{
    Accepted, Completion, Head, Request, Status, Synchronous,
    dedup::{Job, Known, decide},
    feed::FeedRows,
    ids,
    keys::is_body_key,
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
    /// Where a purge goes on from, when it has more to do.
    Purged(Option<i64>),
}

/// Applies `group` in one transaction (`BEGIN IMMEDIATE` … `COMMIT`): all accepts, then all
/// send outcomes, then the rare operator writes in order, then the changes they made to the
/// delivery counts (and a recount, when one was asked for, last). Returns one answer per
/// write. On an error nothing of the group is stored: the transaction rolls back when dropped.
///
/// The body keys of the accepts it stored are noted in `recent` once the commit succeeded.
pub(super) fn apply(
    connection: &mut Connection,
    group: &[Write],
    recent: &mut RecentKeys,
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
    let (accepted, fed, noted) = accept_group(&tx, &jobs, recent, &mut counts)?;
    let mut accepted = accepted.into_iter();
    let completions: Vec<&Completion> = group
        .iter()
        .filter_map(|w| match w {
            Write::Complete(completion, _) => Some(completion),
            _ => None,
        })
        .collect();
    settle::settle(&tx, &completions, &mut counts)?;
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
            Write::Purge { before, from, .. } => {
                Answer::Purged(operator::purge(&tx, *before, *from, &mut counts)?)
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
                operator::disable_output(&tx, name, reason, *at, &mut counts)?;
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
    for (key, subscription, at) in noted {
        recent.note(key, subscription, at);
    }
    Ok((results, fed))
}

/// Body keys to note in [`RecentKeys`] after the commit: (key, subscription, received at).
type Noted<'a> = Vec<(&'a str, Option<&'a str>, i64)>;

/// Decides duplicates for a group of accepts (against the table, the recent body keys and
/// within the group, in order) and inserts the new ones; with the pending rows to hand to the
/// outputs' feeds (of the accepts that came with their parsed event) and the new body keys.
fn accept_group<'a>(
    tx: &Transaction<'_>,
    accepts: &[(&'a Job, Option<&Arc<Delivery>>)],
    recent: &RecentKeys,
    counts: &mut Counts,
) -> rusqlite::Result<(Vec<Accepted>, FeedRows, Noted<'a>)> {
    if accepts.is_empty() {
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    }
    let jobs: Vec<&Job> = accepts.iter().map(|(job, _)| *job).collect();
    let mut known = Known::default();
    let mut stored = tx.prepare_cached("SELECT 1 FROM log WHERE message_id = ?1")?;
    let mut seen = tx.prepare_cached(
        "SELECT subscription_id, MAX(received_at) FROM log WHERE dedup_key = ?1 GROUP BY subscription_id",
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
        if is_body_key(key) {
            // The copies in memory are answered per delivery (the group's own by `decide`):
            // one found there makes its message id known, which `decide` answers as a duplicate.
            let since = inbox.received_at.saturating_sub(inbox.dedup_window_ms);
            if recent.is_copy(key, inbox.subscription_id.as_deref(), since) {
                known.ids.insert(inbox.message_id.clone());
            }
            continue;
        }
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
    let noted = fresh
        .iter()
        .filter_map(|(inbox, _)| {
            let key = inbox.dedup_key.as_deref().filter(|key| is_body_key(key))?;
            Some((key, inbox.subscription_id.as_deref(), inbox.received_at))
        })
        .collect();
    Ok((results, fed, noted))
}

/// Inserts new log rows (each naming the outputs that take it) and exception rows for the
/// outputs that skip it (disabled); returns the pending deliveries of accepts with an event,
/// as feed rows.
fn insert_fresh(
    tx: &Transaction<'_>,
    fresh: &[&Job],
    events: &[Option<&Arc<Delivery>>],
    counts: &mut Counts,
) -> rusqlite::Result<FeedRows> {
    // Number every output first: a new one's cursor starts at the log's end, before this group.
    let mut numbers: Vec<(&str, i64, i64)> = Vec::new();
    for (_, deliveries) in fresh.iter().copied() {
        for delivery in deliveries {
            if !numbers.iter().any(|(name, ..)| *name == delivery.output) {
                numbers.push((&delivery.output, cursors::number(tx, &delivery.output)?, 0));
            }
        }
    }
    let mut log_insert = tx.prepare_cached(
        "INSERT INTO log (message_id, dedup_key, received_at, event_type, version, subscription_id, timestamp, signature, outputs, parse_error, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut skipped_insert = tx.prepare_cached(
        "INSERT INTO exception (id, output, seq, message_id, event_type, status, created_at, next_attempt_at, last_error, finished_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?7)",
    )?;
    let mut fed = Vec::new();
    let mut outputs = String::new();
    for ((inbox, deliveries), event) in fresh.iter().copied().zip(events) {
        outputs.clear();
        for delivery in deliveries.iter().filter(|d| d.status == Status::Pending) {
            let no = number_of(&numbers, &delivery.output);
            if outputs.is_empty() {
                outputs.push(',');
            }
            let _ = write!(outputs, "{no},");
        }
        log_insert.execute(params![
            inbox.message_id,
            // A body key lives in memory (`recent_keys.rs`), not in the log's key index.
            inbox.dedup_key.as_deref().filter(|key| !is_body_key(key)),
            inbox.received_at,
            inbox.event_type,
            inbox.version,
            inbox.subscription_id,
            inbox.timestamp,
            inbox.signature,
            outputs,
            inbox.parse_error,
            &inbox.body[..],
        ])?;
        let seq = tx.last_insert_rowid();
        for delivery in deliveries {
            let no = number_of(&numbers, &delivery.output);
            counts.add(&delivery.output, delivery.status.as_str(), 1);
            if delivery.status != Status::Pending {
                skipped_insert.execute(params![
                    ids::delivery_id(seq, no),
                    delivery.output,
                    seq,
                    inbox.message_id,
                    inbox.event_type,
                    delivery.status.as_str(),
                    inbox.received_at,
                    delivery.last_error,
                ])?;
                continue;
            }
            if let Some(entry) = numbers
                .iter_mut()
                .find(|(name, ..)| *name == delivery.output)
            {
                entry.2 = seq;
            }
            let head = event.map(|event| Head {
                id: ids::delivery_id(seq, no),
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
    let mut named =
        tx.prepare_cached("UPDATE cursor SET last_named = MAX(last_named, ?2) WHERE no = ?1")?;
    for (_, no, last) in numbers.iter().filter(|(.., last)| *last > 0) {
        named.execute(params![no, last])?;
    }
    Ok(fed)
}

/// The number `numbers` gives `output` (numbered before use).
fn number_of(numbers: &[(&str, i64, i64)], output: &str) -> i64 {
    numbers
        .iter()
        .find(|(name, ..)| *name == output)
        .map_or(0, |(_, no, _)| *no)
}
