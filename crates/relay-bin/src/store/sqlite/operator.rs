//! An operator's writes (replay, enable, recount), applied by the writer in its group's
//! transaction like every other write: one connection writes the database, whichever process
//! asks (a serving relay, or the CLI beside it with a writer of its own).

use std::fmt::Write as _;

use rusqlite::{Transaction, params_from_iter, types::Value};

use super::counts::{self, Counts};
use crate::store::Replayed;

/// Counts the requeues of every process in `meta` (`requeues`): a serving relay's workers,
/// taking new rows from their feeds, read the store again when it changes.
const COUNT_REQUEUE: &str = "INSERT INTO meta (key, value) VALUES ('requeues', '1') \
     ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1";

/// The requeues counted so far (0 before the first).
pub(super) const REQUEUES: &str =
    "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'requeues'), 0)";

/// The `WHERE` clause selecting the outbox rows `which` names, its parameters numbered from
/// `?2` (`?1` is the statement's: the time; SQLite counts parameters by their largest number,
/// so a statement that does not use `?1` takes it all the same).
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

/// Marks the rows `which` names pending again, with a line in each one's history, moves them
/// to `pending` in `counts` and counts the requeue; how many.
pub(super) fn requeue(
    tx: &Transaction<'_>,
    which: &Replayed,
    now: i64,
    counts: &mut Counts,
) -> rusqlite::Result<u64> {
    let (clause, values) = selection(which);
    let with_now = || std::iter::once(Value::Integer(now)).chain(values.iter().cloned());
    tx.execute(
        &format!(
            "INSERT INTO attempt (outbox_id, at, status, error) \
             SELECT id, ?1, 'pending', 'replayed by an operator' FROM outbox{clause}"
        ),
        params_from_iter(with_now()),
    )?;
    {
        let mut counted = tx.prepare(&format!(
            "SELECT output, status, COUNT(*) FROM outbox{clause} GROUP BY output, status"
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
            "UPDATE outbox SET status = 'pending', attempts = 0, finished_at = NULL, \
             last_error = 'replayed', next_attempt_at = ?1{clause}"
        ),
        params_from_iter(with_now()),
    )?;
    tx.execute(COUNT_REQUEUE, [])?;
    Ok(u64::try_from(queued).unwrap_or(u64::MAX))
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

/// Counts every outbox row again (the rows are the record, the counts a summary of them).
pub(super) fn recount(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for statement in counts::RECOUNT {
        tx.execute(statement, [])?;
    }
    Ok(())
}
