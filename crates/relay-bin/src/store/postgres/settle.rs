//! Send outcomes recorded on PostgreSQL, with the cursor's rule of `sqlite/settle.rs`: a
//! delivery taken at the first try writes nothing but its output's cursor move, every other
//! outcome keeps an exception row with its history; the cursor moves towards the largest event
//! settled in the group, stops before the oldest retry waiting and before any event in between
//! neither settled nor recorded. Events are committed in `seq` order (the log lock), so every
//! event below one a worker settled is visible here.

use std::collections::{HashMap, HashSet};

use sqlx::{Postgres, Row, Transaction};

use super::{
    counts::{Writer, add as add_counts},
    cursors::{self, Cursor},
};
use crate::store::{Completion, Status, counts::Counts, ids};

/// An event's message id, type and arrival.
type Event = (String, String, i64);

/// Records `done` (in the order they were settled) and moves the cursors.
pub(super) async fn settle(
    tx: &mut Transaction<'_, Postgres>,
    done: &[Completion],
) -> anyhow::Result<()> {
    if done.is_empty() {
        return Ok(());
    }
    let Known {
        cursors,
        mut status_of,
        existed,
        mut with_history,
        events,
    } = known(tx, done).await?;
    let mut counts = Counts::default();
    // The last outcome of each delivery that keeps a row, and whether the row is new.
    let mut rows: Vec<(&Completion, bool)> = Vec::new();
    let mut history: Vec<&Completion> = Vec::new();
    let mut plain: Vec<&Completion> = Vec::new();
    let mut settled: HashMap<i64, i64> = HashMap::new();
    for c in done {
        let (seq, no) = ids::split(c.id);
        let Some(cursor) = cursors.iter().find(|cursor| cursor.no == no) else {
            continue;
        };
        if let Some(was) = status_of.get(&c.id) {
            counts.moved(&cursor.output, was, c.status.as_str(), 1);
            match rows.iter_mut().find(|(row, _)| row.id == c.id) {
                Some(entry) => entry.0 = c,
                None => rows.push((c, false)),
            }
        } else {
            if seq <= cursor.seq || !events.contains_key(&seq) {
                continue;
            }
            counts.moved(&cursor.output, "pending", c.status.as_str(), 1);
            if c.status == Status::Delivered && !c.is_history() {
                plain.push(c);
            } else {
                rows.push((c, !existed.contains(&c.id)));
            }
        }
        status_of.insert(c.id, c.status.as_str().to_owned());
        if c.is_history() || with_history.contains(&c.id) {
            with_history.insert(c.id);
            history.push(c);
        }
        if c.status != Status::Pending {
            let top = settled.entry(no).or_insert(0);
            *top = (*top).max(seq);
        }
    }
    let new: Vec<&Completion> = rows
        .iter()
        .filter(|(_, new)| *new)
        .map(|(c, _)| *c)
        .collect();
    insert_rows(tx, &cursors, &events, &new).await?;
    let changed: Vec<&Completion> = rows
        .iter()
        .filter(|(_, new)| !*new)
        .map(|(c, _)| *c)
        .collect();
    update_rows(tx, &changed).await?;
    insert_history(tx, &history).await?;
    let mut above = Vec::new();
    for cursor in &cursors {
        let Some(top) = settled.get(&cursor.no) else {
            continue;
        };
        let to = reach(tx, cursor, *top, &plain).await?;
        if to > cursor.seq {
            sqlx::query("UPDATE cursor SET seq = GREATEST(seq, $2) WHERE no = $1")
                .bind(cursor.no)
                .bind(to)
                .execute(&mut **tx)
                .await?;
        }
        let to = to.max(cursor.seq);
        above.extend(plain.iter().copied().filter(|c| {
            let (seq, no) = ids::split(c.id);
            no == cursor.no && seq > to
        }));
    }
    // Settled while an earlier delivery waited: a row, so a read from the cursor skips it.
    insert_rows(tx, &cursors, &events, &above).await?;
    add_counts(tx, &counts, Writer::Settle).await
}

/// What the database holds for a group of outcomes.
struct Known {
    /// The cursors of the outputs concerned, locked.
    cursors: Vec<Cursor>,
    /// The status of each delivery that has a row.
    status_of: HashMap<i64, String>,
    /// The deliveries that had a row before the group.
    existed: HashSet<i64>,
    /// The deliveries with history.
    with_history: HashSet<i64>,
    /// The events of deliveries without a row.
    events: HashMap<i64, Event>,
}

/// Reads (and locks, for the cursors) what [`settle`] decides from.
async fn known(tx: &mut Transaction<'_, Postgres>, done: &[Completion]) -> anyhow::Result<Known> {
    let mut numbers: Vec<i64> = done.iter().map(|c| ids::split(c.id).1).collect();
    numbers.sort_unstable();
    numbers.dedup();
    // Cursor rows in number order (the lock order every writer keeps).
    let cursors: Vec<Cursor> = sqlx::query(&format!(
        "{} WHERE c.no = ANY($1) ORDER BY c.no FOR UPDATE OF c",
        cursors::COLUMNS
    ))
    .bind(&numbers)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(cursors::from_row)
    .collect();
    let all_ids: Vec<i64> = done.iter().map(|c| c.id).collect();
    let status_of: HashMap<i64, String> =
        sqlx::query_as("SELECT id, status FROM exception WHERE id = ANY($1)")
            .bind(&all_ids)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    let existed: HashSet<i64> = status_of.keys().copied().collect();
    let with_history: HashSet<i64> =
        sqlx::query_scalar("SELECT DISTINCT delivery_id FROM history WHERE delivery_id = ANY($1)")
            .bind(&all_ids)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    let seqs: Vec<i64> = done
        .iter()
        .filter(|c| !existed.contains(&c.id))
        .map(|c| ids::split(c.id).0)
        .collect();
    let events: HashMap<i64, Event> =
        sqlx::query("SELECT seq, message_id, event_type, received_at FROM log WHERE seq = ANY($1)")
            .bind(&seqs)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| {
                (
                    r.get::<i64, _>("seq"),
                    (
                        r.get("message_id"),
                        r.get("event_type"),
                        r.get("received_at"),
                    ),
                )
            })
            .collect();
    Ok(Known {
        cursors,
        status_of,
        existed,
        with_history,
        events,
    })
}

/// How far `cursor` may move towards `top`: not past the oldest retry waiting above it, nor
/// past an event of its output in between that has no row and was not settled in `plain`.
async fn reach(
    tx: &mut Transaction<'_, Postgres>,
    cursor: &Cursor,
    top: i64,
    plain: &[&Completion],
) -> anyhow::Result<i64> {
    let hold: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(id) FROM exception WHERE output = $1 AND status = 'pending' AND id > $2",
    )
    .bind(&cursor.output)
    .bind(ids::last_id_of(cursor.seq))
    .fetch_one(&mut **tx)
    .await?;
    let to = top.min(hold.map_or(i64::MAX, |id| ids::split(id).0 - 1));
    if to <= cursor.seq {
        return Ok(cursor.seq);
    }
    let mut settled: Vec<i64> = plain
        .iter()
        .map(|c| ids::split(c.id))
        .filter(|(_, no)| *no == cursor.no)
        .map(|(seq, _)| seq)
        .collect();
    settled.sort_unstable();
    let open: Vec<i64> = sqlx::query_scalar(
        "SELECT l.seq FROM log l WHERE l.seq > $3 AND l.seq <= $4 AND strpos(l.outputs, $2) > 0
           AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | $1)
         ORDER BY l.seq",
    )
    .bind(cursor.no)
    .bind(ids::mark(cursor.no))
    .bind(cursor.seq)
    .bind(to)
    .fetch_all(&mut **tx)
    .await?;
    Ok(open
        .iter()
        .find(|seq| settled.binary_search(seq).is_err())
        .map_or(to, |seq| seq - 1))
}

/// Creates the exception rows of `done`'s deliveries.
async fn insert_rows(
    tx: &mut Transaction<'_, Postgres>,
    cursors: &[Cursor],
    events: &HashMap<i64, Event>,
    done: &[&Completion],
) -> anyhow::Result<()> {
    let rows: Vec<(&Completion, &Cursor, i64, &Event)> = done
        .iter()
        .filter_map(|c| {
            let (seq, no) = ids::split(c.id);
            let cursor = cursors.iter().find(|cursor| cursor.no == no)?;
            Some((*c, cursor, seq, events.get(&seq)?))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts, created_at,
             next_attempt_at, last_status, last_error, finished_at)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[],
             $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::int8[])",
    )
    .bind(rows.iter().map(|r| r.0.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.output.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.0.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.1.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0.status.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0.attempts).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.2).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0.next_attempt_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0.last_status).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0.last_error.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.0.finished_at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Changes exception rows to `done`'s outcomes (one per row).
async fn update_rows(
    tx: &mut Transaction<'_, Postgres>,
    done: &[&Completion],
) -> anyhow::Result<()> {
    if done.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE exception e SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
             last_status = v.last_status, last_error = v.last_error, finished_at = v.finished_at
         FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::int8[])
             AS v(id, status, attempts, next_attempt_at, last_status, last_error, finished_at)
         WHERE e.id = v.id",
    )
    .bind(done.iter().map(|c| c.id).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.status.as_str()).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.attempts).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.next_attempt_at).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.last_status).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.last_error.as_deref()).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.finished_at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The history lines of `done`, in order.
async fn insert_history(
    tx: &mut Transaction<'_, Postgres>,
    done: &[&Completion],
) -> anyhow::Result<()> {
    if done.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO history (delivery_id, at, status, http_status, error)
         SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int8[], $5::text[])",
    )
    .bind(done.iter().map(|c| c.id).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.at).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.status.as_str()).collect::<Vec<_>>())
    .bind(done.iter().map(|c| c.last_status).collect::<Vec<_>>())
    .bind(
        done.iter()
            .map(|c| c.last_error.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
