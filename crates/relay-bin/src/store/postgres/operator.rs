//! The rare writes on PostgreSQL (disable, enable, replay, purge), each one transaction, with
//! the rules of `sqlite/operator.rs` and the lock order of `write.rs` (cursor rows, then
//! count rows).

use std::collections::HashSet;

use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

use super::{
    CHANNEL,
    counts::{Writer, add as add_counts},
    cursors::{self, Cursor},
};
use crate::store::{Replayed, Status, counts::Counts, ids};

/// Events of the output numbered `$1` (mark `$2`) without an exception row.
const PLAIN: &str = "strpos(l.outputs, $2) > 0 AND NOT EXISTS \
     (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | $1)";

/// Output `name`'s cursor, locked for this transaction.
async fn locked(tx: &mut Transaction<'_, Postgres>, name: &str) -> anyhow::Result<Option<Cursor>> {
    Ok(sqlx::query(&format!(
        "{} WHERE output = $1 FOR UPDATE",
        cursors::COLUMNS
    ))
    .bind(name)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(cursors::from_row))
}

/// Marks an output disabled: its pending deliveries become `skipped` (the ones without a row
/// get one) and its cursor moves past everything it takes.
pub(super) async fn disable_output(
    pool: &PgPool,
    name: &str,
    reason: &str,
    at: i64,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES ($1, TRUE, $2, $3)
         ON CONFLICT (name) DO UPDATE SET disabled = TRUE, reason = EXCLUDED.reason, changed_at = EXCLUDED.changed_at",
    )
    .bind(name)
    .bind(reason)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let why = format!("output disabled: {reason}");
    let mut skipped = 0_u64;
    if let Some(cursor) = locked(&mut tx, name).await? {
        skipped += sqlx::query(&format!(
            "INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts,
                 created_at, next_attempt_at, last_error, finished_at)
             SELECT (l.seq << 16) | $1, $3, l.seq, l.message_id, l.event_type, 'skipped', 0,
                 l.received_at, l.received_at, $6, $7 FROM log l
             WHERE l.seq > $4 AND l.seq <= $5 AND {PLAIN}"
        ))
        .bind(cursor.no)
        .bind(ids::mark(cursor.no))
        .bind(name)
        .bind(cursor.seq)
        .bind(cursor.last_named)
        .bind(&why)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE cursor SET seq = GREATEST(seq, $2) WHERE no = $1")
            .bind(cursor.no)
            .bind(cursor.last_named)
            .execute(&mut *tx)
            .await?;
    }
    skipped += sqlx::query(
        "UPDATE exception SET status = 'skipped', last_error = $1, finished_at = $2
         WHERE output = $3 AND status = 'pending'",
    )
    .bind(&why)
    .bind(at)
    .bind(name)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut counts = Counts::default();
    counts.moved(
        name,
        "pending",
        "skipped",
        i64::try_from(skipped).unwrap_or(i64::MAX),
    );
    add_counts(&mut tx, &counts, Writer::Operator).await?;
    tx.commit().await?;
    Ok(())
}

/// Enables an output again.
pub(super) async fn enable_output(pool: &PgPool, name: &str, at: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES ($1, FALSE, '', $2)
         ON CONFLICT (name) DO UPDATE SET disabled = FALSE, reason = '', changed_at = EXCLUDED.changed_at",
    )
    .bind(name)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks the deliveries `which` names pending again, with a line in each one's history, and
/// wakes the replica sending their outputs; how many. Delivered ones without a row (the
/// cursor passed them) get one first.
pub(super) async fn requeue(pool: &PgPool, which: &Replayed, now: i64) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    if let Replayed::Range {
        output,
        status: Status::Delivered,
        since,
        until,
    } = which
        && let Some(cursor) = locked(&mut tx, output).await?
    {
        sqlx::query(&format!(
            "INSERT INTO exception (id, output, seq, message_id, event_type, status, attempts,
                 created_at, next_attempt_at, finished_at)
             SELECT (l.seq << 16) | $1, $3, l.seq, l.message_id, l.event_type, 'delivered', 1,
                 l.received_at, l.received_at, l.received_at FROM log l
             WHERE l.seq <= $4 AND l.received_at >= $5 AND l.received_at < $6 AND {PLAIN}"
        ))
        .bind(cursor.no)
        .bind(ids::mark(cursor.no))
        .bind(output)
        .bind(cursor.seq)
        .bind(since.unwrap_or(i64::MIN))
        .bind(until.unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    let mut history = QueryBuilder::<Postgres>::new(
        "INSERT INTO history (delivery_id, at, status, error) SELECT id, ",
    );
    history.push_bind(now);
    history.push(", 'pending', 'replayed by an operator' FROM exception");
    which.push_where(&mut history);
    history.build().execute(&mut *tx).await?;
    let mut counted =
        QueryBuilder::<Postgres>::new("SELECT output, status, COUNT(*) AS n FROM exception");
    which.push_where(&mut counted);
    counted.push(" GROUP BY output, status");
    let before: Vec<(String, String, i64)> = counted
        .build()
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| (r.get("output"), r.get("status"), r.get("n")))
        .collect();
    let mut queue = QueryBuilder::<Postgres>::new(
        "UPDATE exception SET status = 'pending', attempts = 0, finished_at = NULL, last_error = 'replayed', next_attempt_at = ",
    );
    queue.push_bind(now);
    which.push_where(&mut queue);
    let queued = queue.build().execute(&mut *tx).await?.rows_affected();
    let mut counts = Counts::default();
    let mut outputs = HashSet::new();
    for (output, status, n) in &before {
        counts.moved(output, status, "pending", *n);
        outputs.insert(output.as_str());
    }
    add_counts(&mut tx, &counts, Writer::Operator).await?;
    for output in outputs {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(output)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(queued)
}

/// Most events one purge transaction deletes (see `sqlite/operator.rs`).
const PURGE_CHUNK: i64 = 5_000;

/// Deletes delivered or expired deliveries (with their history and requests) finished before
/// `before`, and the events received before it that no delivery may still send, in chunks of
/// [`PURGE_CHUNK`] events (one transaction each).
pub(super) async fn purge(pool: &PgPool, before: i64) -> anyhow::Result<()> {
    purge_finished(pool, before).await?;
    let end = first_received_at_or_after(pool, before).await?;
    let mut from = Some(0);
    while let Some(start) = from {
        from = purge_chunk(pool, start, end).await?;
    }
    Ok(())
}

/// Deletes delivered or expired deliveries finished before `before`, with their history and
/// requests.
async fn purge_finished(pool: &PgPool, before: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let finished: Vec<(String, String, i64)> = sqlx::query_as(
        "WITH gone AS (DELETE FROM exception WHERE status IN ('delivered', 'expired') AND finished_at < $1 RETURNING id, output, status),
              bodies AS (DELETE FROM stored_request WHERE id IN (SELECT id FROM gone)),
              lines AS (DELETE FROM history WHERE delivery_id IN (SELECT id FROM gone))
         SELECT output, status, COUNT(*) FROM gone GROUP BY output, status",
    )
    .bind(before)
    .fetch_all(&mut *tx)
    .await?;
    let mut counts = Counts::default();
    for (output, status, n) in &finished {
        counts.add(output, status, -n);
    }
    add_counts(&mut tx, &counts, Writer::Operator).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the events from `from` below `end` (up to [`PURGE_CHUNK`]) that no delivery may
/// still send; where to go on from when more may be left.
async fn purge_chunk(pool: &PgPool, from: i64, end: i64) -> anyhow::Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    let cursors: Vec<Cursor> = sqlx::query(&format!("{} ORDER BY c.no", cursors::COLUMNS))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(cursors::from_row)
        .collect();
    let candidates: Vec<(i64, String)> = sqlx::query_as(
        "SELECT l.seq, l.outputs FROM log l WHERE l.seq >= $1 AND l.seq < $2
           AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id BETWEEN (l.seq << 16) AND (l.seq << 16) | 65535
               AND e.status IN ('pending', 'dead', 'skipped'))
         ORDER BY l.seq LIMIT $3",
    )
    .bind(from)
    .bind(end)
    .bind(PURGE_CHUNK)
    .fetch_all(&mut *tx)
    .await?;
    let named: Vec<(i64, i64)> = candidates
        .iter()
        .flat_map(|(seq, outputs)| {
            outputs
                .split(',')
                .filter_map(|n| n.parse::<i64>().ok())
                .map(move |no| (*seq, no))
        })
        .collect();
    let with_row: HashSet<i64> = sqlx::query_scalar("SELECT id FROM exception WHERE id = ANY($1)")
        .bind(
            named
                .iter()
                .map(|(seq, no)| ids::delivery_id(*seq, *no))
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let mut gone = Vec::new();
    let mut delivered: Vec<(i64, &str)> = Vec::new();
    for (seq, outputs) in &candidates {
        let mut needed = false;
        let mut passed = Vec::new();
        for no in outputs.split(',').filter_map(|n| n.parse::<i64>().ok()) {
            if with_row.contains(&ids::delivery_id(*seq, no)) {
                continue;
            }
            let Some(cursor) = cursors.iter().find(|c| c.no == no) else {
                continue;
            };
            if *seq > cursor.seq {
                needed = true;
                break;
            }
            passed.push((*seq, cursor.output.as_str()));
        }
        if !needed {
            gone.push(*seq);
            delivered.extend(passed);
        }
    }
    let deleted: HashSet<i64> =
        sqlx::query_scalar("DELETE FROM log WHERE seq = ANY($1) RETURNING seq")
            .bind(&gone)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut counts = Counts::default();
    for (seq, output) in delivered {
        if deleted.contains(&seq) {
            counts.add(output, Status::Delivered.as_str(), -1);
        }
    }
    add_counts(&mut tx, &counts, Writer::Operator).await?;
    tx.commit().await?;
    Ok(match candidates.last() {
        Some((last, _)) if i64::try_from(candidates.len()).unwrap_or(0) == PURGE_CHUNK => {
            Some(last + 1)
        }
        _ => None,
    })
}

/// The first `seq` of an event received at or after `at` (one past the log's end when none),
/// by a binary search over `seq` (see `sqlite/operator.rs`).
async fn first_received_at_or_after(pool: &PgPool, at: i64) -> anyhow::Result<i64> {
    let (mut low, mut high): (i64, i64) =
        sqlx::query_as("SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) + 1 FROM log")
            .fetch_one(pool)
            .await?;
    while low < high {
        let middle = low + (high - low) / 2;
        let found: Option<(i64, i64)> =
            sqlx::query_as("SELECT seq, received_at FROM log WHERE seq >= $1 ORDER BY seq LIMIT 1")
                .bind(middle)
                .fetch_optional(pool)
                .await?;
        match found {
            Some((seq, received)) if received < at => low = seq + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}
