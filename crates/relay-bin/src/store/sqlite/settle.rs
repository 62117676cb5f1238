//! Send outcomes recorded: a delivery taken at the first try writes nothing but its output's
//! cursor move; every other outcome (a retry, dead, expired, skipped, a replayed row) keeps an
//! exception row with its history.
//!
//! The cursor's rule, per output and group: with `m` the largest event settled in the group
//! and `hold` the oldest retry waiting above the cursor, the cursor moves towards
//! `min(m, hold - 1)` (never back), and stops before the first event in between that is
//! neither settled in this group nor recorded in a row ([`reach`]). A delivery settled above
//! the new cursor (sent while an earlier one waited) gets a `delivered` row, so that a read
//! from the cursor does not send it again.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{
    counts::Counts,
    cursors::{self, Cursor},
};
use crate::store::{Completion, Status, ids};

/// Records `completions` (in the order they were settled) and moves the cursors.
pub(super) fn settle(
    tx: &Transaction<'_>,
    completions: &[&Completion],
    counts: &mut Counts,
) -> rusqlite::Result<()> {
    if completions.is_empty() {
        return Ok(());
    }
    // Per output: its cursor as it was, and the largest event settled in the group.
    let mut moved: Vec<(Cursor, i64)> = Vec::new();
    // First-try deliveries, written only if they end up above their cursor.
    let mut plain: Vec<(i64, &Completion)> = Vec::new();
    for &completion in completions {
        let (seq, no) = ids::split(completion.id);
        let index = if let Some(index) = moved.iter().position(|(cursor, _)| cursor.no == no) {
            index
        } else {
            let Some(cursor) = cursors::numbered(tx, no)? else {
                continue;
            };
            moved.push((cursor, 0));
            moved.len() - 1
        };
        let cursor = &moved[index].0;
        let output = cursor.output.clone();
        let was: Option<String> = tx
            .prepare_cached("SELECT status FROM exception WHERE id = ?1")?
            .query_row([completion.id], |r| r.get(0))
            .optional()?;
        match was {
            Some(was) => {
                counts.moved(&output, &was, completion.status.as_str(), 1);
                update(tx, completion)?;
            }
            None if seq <= cursor.seq => continue,
            None => {
                let Some((message_id, event_type, created_at)) = event_of(tx, seq)? else {
                    continue;
                };
                counts.moved(&output, "pending", completion.status.as_str(), 1);
                if completion.status == Status::Delivered && !completion.is_history() {
                    plain.push((no, completion));
                } else {
                    insert(
                        tx,
                        completion,
                        &output,
                        seq,
                        &message_id,
                        &event_type,
                        created_at,
                    )?;
                }
            }
        }
        if completion.status != Status::Pending {
            let settled = &mut moved[index].1;
            *settled = (*settled).max(seq);
        }
    }
    for (cursor, settled) in &mut moved {
        let hold: Option<i64> = tx
            .prepare_cached(
                "SELECT MIN(id) FROM exception WHERE output = ?1 AND status = 'pending' AND id > ?2",
            )?
            .query_row(params![cursor.output, ids::last_id_of(cursor.seq)], |r| {
                r.get(0)
            })?;
        let limit = hold.map_or(i64::MAX, |id| ids::split(id).0 - 1);
        let to = reach(tx, cursor, (*settled).min(limit), &plain)?;
        if to > cursor.seq {
            tx.prepare_cached("UPDATE cursor SET seq = ?2 WHERE no = ?1")?
                .execute(params![cursor.no, to])?;
        }
        *settled = to.max(cursor.seq);
    }
    for (no, completion) in plain {
        let (seq, _) = ids::split(completion.id);
        let Some((cursor, to)) = moved.iter().find(|(cursor, _)| cursor.no == no) else {
            continue;
        };
        if seq > *to
            && let Some((message_id, event_type, created_at)) = event_of(tx, seq)?
        {
            insert(
                tx,
                completion,
                &cursor.output,
                seq,
                &message_id,
                &event_type,
                created_at,
            )?;
        }
    }
    Ok(())
}

/// How far `cursor` may move towards `to`: up to the first event of its output in between
/// that has no row and was not settled in this group (`plain`). The worker settles most
/// outcomes in the order it sent them, but not all (a delivery it cannot render is recorded
/// at once, while earlier ones wait for their send): the cursor never passes a delivery that
/// is still to be sent.
fn reach(
    tx: &Transaction<'_>,
    cursor: &Cursor,
    to: i64,
    plain: &[(i64, &Completion)],
) -> rusqlite::Result<i64> {
    if to <= cursor.seq {
        return Ok(cursor.seq);
    }
    let mut settled: Vec<i64> = plain
        .iter()
        .filter(|(no, _)| *no == cursor.no)
        .map(|(_, c)| ids::split(c.id).0)
        .collect();
    settled.sort_unstable();
    let mut open = tx.prepare_cached(
        "SELECT l.seq FROM log l WHERE l.seq > ?3 AND l.seq <= ?4 AND instr(l.outputs, ?2) \
         AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | ?1) ORDER BY l.seq",
    )?;
    let mut rows = open.query(params![cursor.no, ids::mark(cursor.no), cursor.seq, to])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if settled.binary_search(&seq).is_err() {
            return Ok(seq - 1);
        }
    }
    Ok(to)
}

/// The message id, type and arrival of the event at `seq`, while the log has it.
fn event_of(tx: &Transaction<'_>, seq: i64) -> rusqlite::Result<Option<(String, String, i64)>> {
    tx.prepare_cached("SELECT message_id, event_type, received_at FROM log WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

/// Changes an exception row to `c`'s outcome, with a history line unless it is a first-try
/// delivery of a row without history.
fn update(tx: &Transaction<'_>, c: &Completion) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE exception SET status = ?2, attempts = ?3, next_attempt_at = ?4, last_status = ?5, \
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
    history(tx, c)
}

/// Creates the exception row of `c`'s delivery, with its history line.
#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &Transaction<'_>,
    c: &Completion,
    output: &str,
    seq: i64,
    message_id: &str,
    event_type: &str,
    created_at: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts, created_at, \
         next_attempt_at, last_status, last_error, finished_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        c.id,
        output,
        seq,
        message_id,
        event_type,
        c.status.as_str(),
        c.attempts,
        created_at,
        c.next_attempt_at,
        c.last_status,
        c.last_error,
        c.finished_at,
    ])?;
    history(tx, c)
}

/// The history line of `c`, when the delivery keeps one.
fn history(tx: &Transaction<'_>, c: &Completion) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO history (delivery_id, at, status, http_status, error) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE ?6 OR EXISTS (SELECT 1 FROM history WHERE delivery_id = ?1)",
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
