//! The writes besides accepts and send outcomes (disable, enable, replay, recount, purge),
//! applied by the writer in its group's transaction like every other write: one connection
//! writes the database, whichever process asks (a serving relay, or the CLI beside it with a
//! writer of its own).

use std::fmt::Write as _;

use rusqlite::{OptionalExtension, Transaction, params, params_from_iter, types::Value};

use super::{
    counts::{self, Counts},
    cursors,
};
use crate::store::{Replayed, Status, ids};

/// Counts the requeues of every process in `meta` (`requeues`): a serving relay's workers,
/// taking new rows from their feeds, read the store again when it changes.
const COUNT_REQUEUE: &str = "INSERT INTO meta (key, value) VALUES ('requeues', '1') \
     ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1";

/// The requeues counted so far (0 before the first).
pub(super) const REQUEUES: &str =
    "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'requeues'), 0)";

/// Log rows of the output numbered `?1` (mark `?2`) without an exception row.
const PLAIN: &str = "instr(l.outputs, ?2) AND NOT EXISTS \
     (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | ?1)";

/// A delivery of the event `l` that may still be sent (pending, or dead or skipped and
/// replayable): the event stays in the log.
const OPEN: &str = "EXISTS (SELECT 1 FROM exception e WHERE e.id BETWEEN (l.seq << 16) AND (l.seq << 16) | 65535 \
     AND e.status IN ('pending', 'dead', 'skipped'))";

/// The `WHERE` clause selecting the exception rows `which` names, its parameters numbered
/// from `?2` (`?1` is the statement's: the time; SQLite counts parameters by their largest
/// number, so a statement that does not use `?1` takes it all the same).
fn selection(which: &Replayed) -> (String, Vec<Value>) {
    match which {
        Replayed::One(id) => (
            " WHERE status IN ('dead', 'skipped', 'expired') AND id = ?2".to_owned(),
            vec![Value::Integer(*id)],
        ),
        Replayed::Range {
            output,
            status,
            since,
            until,
        } => {
            let mut clause = " WHERE output = ?2 AND status = ?3".to_owned();
            let mut values = vec![
                Value::Text(output.clone()),
                Value::Text(status.as_str().to_owned()),
            ];
            if let Some(since) = since {
                values.push(Value::Integer(*since));
                let _ = write!(clause, " AND created_at >= ?{}", values.len() + 1);
            }
            if let Some(until) = until {
                values.push(Value::Integer(*until));
                let _ = write!(clause, " AND created_at < ?{}", values.len() + 1);
            }
            (clause, values)
        }
    }
}

/// Marks the deliveries `which` names pending again, with a line in each one's history,
/// moves them to `pending` in `counts` and counts the requeue; how many. Delivered ones
/// without a row (the cursor passed them) get one first.
pub(super) fn requeue(
    tx: &Transaction<'_>,
    which: &Replayed,
    now: i64,
    counts: &mut Counts,
) -> rusqlite::Result<u64> {
    if let Replayed::Range {
        output,
        status: Status::Delivered,
        since,
        until,
    } = which
        && let Some(cursor) = cursors::of(tx, output)?
    {
        tx.execute(
                &format!(
                    "INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts, \
                     created_at, next_attempt_at, finished_at) \
                     SELECT (l.seq << 16) | ?1, ?3, l.seq, l.message_id, l.event_type, 'delivered', 1, \
                     l.received_at, l.received_at, l.received_at FROM log l \
                     WHERE l.seq <= ?4 AND l.received_at >= ?5 AND l.received_at < ?6 AND {PLAIN}"
                ),
                params![
                    cursor.no,
                    ids::mark(cursor.no),
                    output,
                    cursor.seq,
                    since.unwrap_or(i64::MIN),
                    until.unwrap_or(i64::MAX),
                ],
            )?;
    }
    let (clause, values) = selection(which);
    let with_now = || std::iter::once(Value::Integer(now)).chain(values.iter().cloned());
    tx.execute(
        &format!(
            "INSERT INTO history (delivery_id, at, status, error) \
             SELECT id, ?1, 'pending', 'replayed by an operator' FROM exception{clause}"
        ),
        params_from_iter(with_now()),
    )?;
    {
        let mut counted = tx.prepare(&format!(
            "SELECT output, status, COUNT(*) FROM exception{clause} GROUP BY output, status"
        ))?;
        let mut rows = counted.query(params_from_iter(with_now()))?;
        while let Some(row) = rows.next()? {
            let (output, status, n): (String, String, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            counts.moved(&output, &status, "pending", n);
        }
    }
    let queued = tx.execute(
        &format!(
            "UPDATE exception SET status = 'pending', attempts = 0, finished_at = NULL, \
             last_error = 'replayed', next_attempt_at = ?1{clause}"
        ),
        params_from_iter(with_now()),
    )?;
    tx.execute(COUNT_REQUEUE, [])?;
    Ok(u64::try_from(queued).unwrap_or(u64::MAX))
}

/// Disables an output: its pending deliveries become `skipped` (replayable), the ones without
/// a row get one, and its cursor moves past everything it takes.
pub(super) fn disable_output(
    tx: &Transaction<'_>,
    name: &str,
    reason: &str,
    at: i64,
    counts: &mut Counts,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, 1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET disabled = 1, reason = excluded.reason, changed_at = excluded.changed_at",
        params![name, reason, at],
    )?;
    let why = format!("output disabled: {reason}");
    let mut skipped = tx.execute(
        "UPDATE exception SET status = 'skipped', last_error = ?1, finished_at = ?2 \
         WHERE output = ?3 AND status = 'pending'",
        params![why, at, name],
    )?;
    if let Some(cursor) = cursors::of(tx, name)? {
        skipped += tx.execute(
            &format!(
                "INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts, \
                 created_at, next_attempt_at, last_error, finished_at) \
                 SELECT (l.seq << 16) | ?1, ?3, l.seq, l.message_id, l.event_type, 'skipped', 0, \
                 l.received_at, l.received_at, ?6, ?7 FROM log l \
                 WHERE l.seq > ?4 AND l.seq <= ?5 AND {PLAIN}"
            ),
            params![
                cursor.no,
                ids::mark(cursor.no),
                name,
                cursor.seq,
                cursor.last_named,
                why,
                at,
            ],
        )?;
        tx.execute(
            "UPDATE cursor SET seq = MAX(seq, last_named) WHERE no = ?1",
            [cursor.no],
        )?;
    }
    counts.moved(name, "pending", "skipped", count(skipped));
    Ok(())
}

/// Enables an output again.
pub(super) fn enable_output(tx: &Transaction<'_>, name: &str, now: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, 0, '', ?2)
         ON CONFLICT(name) DO UPDATE SET disabled = 0, reason = '', changed_at = excluded.changed_at",
        rusqlite::params![name, now],
    )?;
    Ok(())
}

/// Counts every delivery again (the log, the cursors and the exception rows are the record,
/// the counts a summary of them).
pub(super) fn recount(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for statement in counts::RECOUNT {
        tx.execute(statement, [])?;
    }
    Ok(())
}

/// Most events one purge write deletes: a purge of a large backlog runs as several writes, so
/// that accepts committed between them are not held up behind it.
pub(super) const PURGE_CHUNK: usize = 5_000;

/// Retention: removes finished deliveries and their history older than `before`, and the
/// events from `from` on (up to [`PURGE_CHUNK`] of them) received before it that no delivery
/// may still send (pending, or dead or skipped and replayable: the worker renders each request
/// from the log). Where to go on from when events are left (call again with it).
pub(super) fn purge(
    tx: &Transaction<'_>,
    before: i64,
    from: i64,
    counts: &mut Counts,
) -> rusqlite::Result<Option<i64>> {
    const FINISHED: &str =
        "SELECT id FROM exception WHERE status IN ('delivered', 'expired') AND finished_at < ?1";
    tx.execute(
        &format!("DELETE FROM history WHERE delivery_id IN ({FINISHED})"),
        [before],
    )?;
    tx.execute(
        &format!("DELETE FROM stored_request WHERE id IN ({FINISHED})"),
        [before],
    )?;
    {
        let mut deleted = tx.prepare(
            "DELETE FROM exception WHERE status IN ('delivered', 'expired') AND finished_at < ?1 \
             RETURNING output, status",
        )?;
        let mut rows = deleted.query([before])?;
        while let Some(row) = rows.next()? {
            counts.add(row.get_ref(0)?.as_str()?, row.get_ref(1)?.as_str()?, -1);
        }
    }
    let end = first_received_at_or_after(tx, before)?;
    let cursors = cursors::all(tx)?;
    // Candidates: old events with no delivery that may still be sent from a row. Each is
    // kept if an output still has to send it without a row (past that output's cursor).
    let candidates: Vec<(i64, String)> = tx
        .prepare(&format!(
            "SELECT l.seq, l.outputs FROM log l WHERE l.seq >= ?3 AND l.seq < ?1 AND NOT {OPEN} \
             ORDER BY l.seq LIMIT ?2"
        ))?
        .query_map(
            params![end, i64::try_from(PURGE_CHUNK).unwrap_or(i64::MAX), from],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut has_row = tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM exception WHERE id = ?1)")?;
    let mut delete = tx.prepare_cached("DELETE FROM log WHERE seq = ?1")?;
    let mut passed = Vec::new();
    for (seq, outputs) in &candidates {
        passed.clear();
        let mut needed = false;
        for no in outputs.split(',').filter_map(|n| n.parse::<i64>().ok()) {
            let Some(cursor) = cursors.iter().find(|c| c.no == no) else {
                continue;
            };
            if has_row.query_row([ids::delivery_id(*seq, no)], |r| r.get::<_, bool>(0))? {
                continue;
            }
            if *seq > cursor.seq {
                needed = true;
                break;
            }
            passed.push(cursor.output.as_str());
        }
        if !needed {
            delete.execute([seq])?;
            for output in &passed {
                counts.add(output, Status::Delivered.as_str(), -1);
            }
        }
    }
    Ok(match candidates.last() {
        Some((last, _)) if candidates.len() == PURGE_CHUNK => Some(last + 1),
        _ => None,
    })
}

/// The first `seq` of an event received at or after `at` (one past the log's end when none):
/// `seq` grows with arrival, so a binary search over the primary key finds it in about twenty
/// point reads, without an index on time.
fn first_received_at_or_after(tx: &Transaction<'_>, at: i64) -> rusqlite::Result<i64> {
    let (mut low, mut high): (i64, i64) = tx.query_row(
        "SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) + 1 FROM log",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut at_or_after =
        tx.prepare_cached("SELECT seq, received_at FROM log WHERE seq >= ?1 ORDER BY seq LIMIT 1")?;
    while low < high {
        let middle = low + (high - low) / 2;
        match at_or_after
            .query_row([middle], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .optional()?
        {
            Some((seq, received)) if received < at => low = seq + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}

/// A number of rows changed, as a count.
fn count(rows: usize) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}
