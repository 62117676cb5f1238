//! Writes: groups of accepts and of send outcomes (each one transaction, with array-bound
//! statements), and the rare operator writes.
//!
//! Replicas write the same tables at once. Three rules keep that safe:
//! - a second key is decided under a transaction-level advisory lock on its hash, and message
//!   ids under the primary key (`ON CONFLICT DO NOTHING`): a delivery posted to two replicas at
//!   once is stored by one;
//! - locks are taken in one global order (key locks sorted, inbox rows sorted by message id,
//!   then the outbox lock), so two groups never wait on each other in a circle;
//! - outbox ids are drawn under one advisory lock held until commit, so ids become visible in
//!   order: a worker that has read up to id N never sees a smaller id appear later.

use std::{future::Future, pin::Pin, time::Duration};

use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};

use super::CHANNEL;
use crate::store::{
    Accepted, Completion, Replayed, Status,
    dedup::{Job, Known, decide},
};

/// How long a group of send outcomes waits for more before it commits (nobody waits on them;
/// see the SQLite writer's `COMPLETION_LINGER`).
pub(super) const COMPLETION_LINGER: Duration = Duration::from_millis(10);

/// Advisory lock under which outbox ids are drawn (`outbox` in ASCII).
const OUTBOX_LOCK: i64 = 0x6f75_7462_6f78;

type Pending<'a, R> = Pin<Box<dyn Future<Output = anyhow::Result<Vec<R>>> + Send + 'a>>;

/// Commits a group of accepts (see [`super::batch::Apply`]).
pub(super) fn accept_group<'a>(pool: &'a PgPool, jobs: &'a [Job]) -> Pending<'a, Accepted> {
    Box::pin(async move {
        let mut tx = pool.begin().await?;
        let results = accept_in(&mut tx, jobs).await?;
        tx.commit().await?;
        Ok(results)
    })
}

/// 64-bit FNV-1a: the advisory lock key of a second key (stable across versions and hosts).
fn lock_key(key: &str) -> i64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

async fn accept_in(
    tx: &mut Transaction<'_, Postgres>,
    jobs: &[Job],
) -> anyhow::Result<Vec<Accepted>> {
    let mut keys: Vec<&str> = jobs
        .iter()
        .filter_map(|j| j.0.dedup_key.as_deref())
        .collect();
    if !keys.is_empty() {
        let mut locks: Vec<i64> = keys.iter().map(|k| lock_key(k)).collect();
        locks.sort_unstable();
        locks.dedup();
        // unnest yields the array in order: the locks are taken in sorted order.
        sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS k")
            .bind(&locks)
            .execute(&mut **tx)
            .await?;
    }
    let ids: Vec<&str> = jobs.iter().map(|j| j.0.message_id.as_str()).collect();
    let mut known = Known::default();
    for row in sqlx::query("SELECT message_id FROM inbox WHERE message_id = ANY($1)")
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?
    {
        known.ids.insert(row.get("message_id"));
    }
    if !keys.is_empty() {
        keys.sort_unstable();
        keys.dedup();
        for row in sqlx::query(
            "SELECT dedup_key, subscription_id, MAX(received_at) AS latest FROM inbox
             WHERE dedup_key = ANY($1) GROUP BY dedup_key, subscription_id",
        )
        .bind(&keys)
        .fetch_all(&mut **tx)
        .await?
        {
            known
                .keys
                .entry(row.get("dedup_key"))
                .or_default()
                .push((row.get("subscription_id"), row.get("latest")));
        }
    }
    let refs: Vec<&Job> = jobs.iter().collect();
    let (mut results, mut fresh) = decide(&refs, known);
    if fresh.is_empty() {
        return Ok(results);
    }
    let mut by_id = fresh.clone();
    by_id.sort_unstable_by(|a, b| a.0.message_id.cmp(&b.0.message_id));
    let stored = insert_inbox(tx, &by_id).await?;
    if stored.len() < fresh.len() {
        // Another replica stored some of these between our read and our insert: theirs.
        let lost: Vec<&str> = fresh
            .iter()
            .map(|j| j.0.message_id.as_str())
            .filter(|id| !stored.contains(*id))
            .collect();
        for (job, result) in jobs.iter().zip(results.iter_mut()) {
            if matches!(result, Accepted::New(_)) && lost.contains(&job.0.message_id.as_str()) {
                *result = Accepted::Duplicate;
            }
        }
        fresh.retain(|j| stored.contains(j.0.message_id.as_str()));
    }
    insert_outbox(tx, &fresh).await?;
    Ok(results)
}

/// Inserts inbox rows (in message id order, see the module's lock order); returns the ids
/// actually stored.
async fn insert_inbox(
    tx: &mut Transaction<'_, Postgres>,
    fresh: &[&Job],
) -> anyhow::Result<std::collections::HashSet<String>> {
    let column =
        |f: fn(&Job) -> Option<&str>| -> Vec<Option<&str>> { fresh.iter().map(|j| f(j)).collect() };
    let rows = sqlx::query(
        "INSERT INTO inbox (message_id, dedup_key, received_at, event_type, version, subscription_id, timestamp, signature, body, parse_error)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::text[])
         ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
    )
    .bind(column(|j| Some(&j.0.message_id)))
    .bind(column(|j| j.0.dedup_key.as_deref()))
    .bind(fresh.iter().map(|j| j.0.received_at).collect::<Vec<_>>())
    .bind(column(|j| Some(&j.0.event_type)))
    .bind(column(|j| Some(&j.0.version)))
    .bind(column(|j| j.0.subscription_id.as_deref()))
    .bind(column(|j| Some(&j.0.timestamp)))
    .bind(column(|j| Some(&j.0.signature)))
    .bind(fresh.iter().map(|j| &j.0.body[..]).collect::<Vec<_>>())
    .bind(column(|j| j.0.parse_error.as_deref()))
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|r| r.get("message_id")).collect())
}

/// Inserts the outbox rows of stored deliveries, under the outbox lock,
/// and announces the outputs that got pending rows.
async fn insert_outbox(tx: &mut Transaction<'_, Postgres>, fresh: &[&Job]) -> anyhow::Result<()> {
    let rows: Vec<(&Job, &crate::store::NewDelivery)> = fresh
        .iter()
        .flat_map(|job| job.1.iter().map(move |delivery| (*job, delivery)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // `rows` is in the order the deliveries reached the writer (each output's queue order).
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(OUTBOX_LOCK)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at, last_error, finished_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $5::int8[], $6::text[], $7::int8[])",
    )
    .bind(rows.iter().map(|(j, _)| j.0.message_id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, d)| d.output.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(j, _)| j.0.event_type.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, d)| d.status.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(j, _)| j.0.received_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, d)| d.last_error.as_deref()).collect::<Vec<_>>())
    .bind(
        rows
            .iter()
            .map(|(j, d)| (d.status != Status::Pending).then_some(j.0.received_at))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    let mut outputs: Vec<&str> = rows
        .iter()
        .filter(|(_, d)| d.status == Status::Pending)
        .map(|(_, d)| d.output.as_str())
        .collect();
    outputs.sort_unstable();
    outputs.dedup();
    if !outputs.is_empty() {
        sqlx::query("SELECT pg_notify($1, o) FROM unnest($2::text[]) AS o")
            .bind(CHANNEL)
            .bind(&outputs)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Commits a group of send outcomes: the rows' new state, and their history (every outcome but
/// a first-try delivery, unless the row already has history).
pub(super) fn complete_group<'a>(pool: &'a PgPool, done: &'a [Completion]) -> Pending<'a, ()> {
    Box::pin(async move {
        let mut tx = pool.begin().await?;
        let ids: Vec<i64> = done.iter().map(|c| c.id).collect();
        let statuses: Vec<&str> = done.iter().map(|c| c.status.as_str()).collect();
        let last_status: Vec<Option<i64>> = done.iter().map(|c| c.last_status).collect();
        let errors: Vec<Option<&str>> = done.iter().map(|c| c.last_error.as_deref()).collect();
        sqlx::query(
            "UPDATE outbox o SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
                 last_status = v.last_status, last_error = v.last_error, finished_at = v.finished_at
             FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::int8[])
                 AS v(id, status, attempts, next_attempt_at, last_status, last_error, finished_at)
             WHERE o.id = v.id",
        )
        .bind(&ids)
        .bind(&statuses)
        .bind(done.iter().map(|c| c.attempts).collect::<Vec<_>>())
        .bind(done.iter().map(|c| c.next_attempt_at).collect::<Vec<_>>())
        .bind(&last_status)
        .bind(&errors)
        .bind(done.iter().map(|c| c.finished_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO attempt (outbox_id, at, status, http_status, error)
             SELECT v.id, v.at, v.status, v.http_status, v.error
             FROM unnest($1::int8[], $2::int8[], $3::text[], $4::int8[], $5::text[], $6::bool[])
                 AS v(id, at, status, http_status, error, always)
             WHERE v.always OR EXISTS (SELECT 1 FROM attempt a WHERE a.outbox_id = v.id)",
        )
        .bind(&ids)
        .bind(done.iter().map(|c| c.at).collect::<Vec<_>>())
        .bind(&statuses)
        .bind(&last_status)
        .bind(&errors)
        .bind(done.iter().map(Completion::is_history).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(vec![(); done.len()])
    })
}

/// Marks an output disabled and its pending deliveries skipped.
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
    sqlx::query("UPDATE outbox SET status = 'skipped', last_error = $1, finished_at = $2 WHERE output = $3 AND status = 'pending'")
        .bind(format!("output disabled: {reason}"))
        .bind(at)
        .bind(name)
        .execute(&mut *tx)
        .await?;
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

/// Marks the rows `which` names pending again, with a line in each one's history, and wakes
/// the replica sending their outputs; how many.
pub(super) async fn requeue(pool: &PgPool, which: &Replayed, now: i64) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    let mut history = QueryBuilder::<Postgres>::new(
        "INSERT INTO attempt (outbox_id, at, status, error) SELECT id, ",
    );
    history.push_bind(now);
    history.push(", 'pending', 'replayed by an operator' FROM outbox");
    which.push_where(&mut history);
    history.build().execute(&mut *tx).await?;
    let mut update = QueryBuilder::<Postgres>::new(
        "WITH queued AS (UPDATE outbox SET status = 'pending', attempts = 0, finished_at = NULL, last_error = 'replayed', next_attempt_at = ",
    );
    update.push_bind(now);
    which.push_where(&mut update);
    update.push(" RETURNING output) SELECT output, COUNT(*) AS n FROM queued GROUP BY output");
    let mut queued = 0_u64;
    for row in update.build().fetch_all(&mut *tx).await? {
        queued += u64::try_from(row.get::<i64, _>("n")).unwrap_or(0);
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(row.get::<&str, _>("output"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(queued)
}

/// Deletes inbox rows received before `before`, and delivered or expired deliveries (with
/// their requests and history) finished before it.
pub(super) async fn purge(pool: &PgPool, before: i64) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(crate::store::purge::INBOX)
        .bind(before)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "WITH gone AS (DELETE FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < $1 RETURNING id),
              bodies AS (DELETE FROM outbox_body WHERE id IN (SELECT id FROM gone))
         DELETE FROM attempt WHERE outbox_id IN (SELECT id FROM gone)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
