//! Writes: groups of accepts and of send outcomes (each one transaction, with array-bound
//! statements).
//!
//! Replicas write the same tables at once. Three rules keep that safe:
//! - a second key is decided under a transaction-level advisory lock on its hash, and message
//!   ids under the primary key (`ON CONFLICT DO NOTHING`): a delivery posted to two replicas at
//!   once is stored by one;
//! - locks are taken in one global order (key locks sorted, then the log lock, then cursor
//!   rows by number, then count rows by output and status), so two transactions never wait on
//!   each other in a circle; accepts and outcomes do not even share rows (`cursor_end` and
//!   `cursor`, each writer's own count rows);
//! - events are numbered and stored under one advisory lock held until commit, so they
//!   become visible in order: a worker that has read up to event N never sees a smaller one
//!   appear later, and a cursor never passes an event still being committed.

use std::{collections::HashMap, future::Future, pin::Pin, time::Duration};

use sqlx::{PgPool, Postgres, Row, Transaction};

use super::CHANNEL;
use crate::store::{
    Accepted, Completion, Status,
    counts::Counts,
    dedup::{Job, Known, decide},
    ids,
};

/// How long a group of send outcomes waits for more before it commits (nobody waits on them;
/// see the SQLite writer's `COMPLETION_LINGER`).
pub(super) const COMPLETION_LINGER: Duration = Duration::from_millis(10);

/// Advisory lock under which events are numbered and stored (`outbox` in ASCII: the lock of
/// the outbox's ids before the log).
const LOG_LOCK: i64 = 0x6f75_7462_6f78;

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
    for row in sqlx::query("SELECT message_id FROM log WHERE message_id = ANY($1)")
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
            "SELECT dedup_key, subscription_id, MAX(received_at) AS latest FROM log
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
    // The log's order: events an output takes are numbered and stored under one lock held
    // until commit, so a reader that has seen event N never sees a smaller one appear later.
    // Taken before any log row is written (the lock order: second keys, then this, then
    // rows), after the reads above: a message id stored meanwhile by another replica is
    // caught by the insert (`ON CONFLICT`), a second key cannot be (its lock is held). New
    // events no output takes need no order: they do without, as do duplicates.
    let ordered = fresh.iter().any(|job| !job.1.is_empty());
    if ordered {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOG_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    let (stored, numbers) = insert_log(tx, &fresh).await?;
    if stored.len() < fresh.len() {
        // Another replica stored some of these between our read and our insert: theirs.
        for (job, result) in jobs.iter().zip(results.iter_mut()) {
            if matches!(result, Accepted::New(_)) && !stored.contains_key(&job.0.message_id) {
                *result = Accepted::Duplicate;
            }
        }
        fresh.retain(|job| stored.contains_key(&job.0.message_id));
    }
    if ordered {
        record_deliveries(tx, &fresh, &stored, &numbers).await?;
    }
    Ok(results)
}

/// The outputs' numbers, by name.
type Numbers = Vec<(String, i64)>;

/// Stores new events in the log (in the order they reached the writer), each naming the
/// numbers of the outputs that take it; the events actually stored, with their place (another
/// replica may have stored one first when no lock was needed), and the outputs' numbers.
async fn insert_log(
    tx: &mut Transaction<'_, Postgres>,
    fresh: &[&Job],
) -> anyhow::Result<(HashMap<String, i64>, Numbers)> {
    let mut names: Vec<&str> = fresh
        .iter()
        .flat_map(|job| job.1.iter().map(|d| d.output.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let numbers = if names.is_empty() {
        Vec::new()
    } else {
        super::cursors::number(tx, &names).await?
    };
    let number = |name: &str| {
        numbers
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, no)| *no)
    };
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT nextval('log_seq') FROM generate_series(1, $1::int8)")
            .bind(i64::try_from(fresh.len()).unwrap_or(i64::MAX))
            .fetch_all(&mut **tx)
            .await?;
    let mut seqs = seqs;
    seqs.sort_unstable();
    let outputs: Vec<String> = fresh
        .iter()
        .map(|job| {
            let taking: Vec<String> = job
                .1
                .iter()
                .filter(|d| d.status == Status::Pending)
                .map(|d| number(&d.output).to_string())
                .collect();
            if taking.is_empty() {
                String::new()
            } else {
                format!(",{},", taking.join(","))
            }
        })
        .collect();
    let column =
        |f: fn(&Job) -> Option<&str>| -> Vec<Option<&str>> { fresh.iter().map(|j| f(j)).collect() };
    let rows = sqlx::query(
        "INSERT INTO log (seq, message_id, dedup_key, received_at, event_type, version, subscription_id, timestamp, signature, outputs, parse_error, body)
         SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[])
         ON CONFLICT (message_id) DO NOTHING RETURNING message_id, seq",
    )
    .bind(&seqs)
    .bind(column(|j| Some(&j.0.message_id)))
    .bind(column(|j| j.0.dedup_key.as_deref()))
    .bind(fresh.iter().map(|j| j.0.received_at).collect::<Vec<_>>())
    .bind(column(|j| Some(&j.0.event_type)))
    .bind(column(|j| Some(&j.0.version)))
    .bind(column(|j| j.0.subscription_id.as_deref()))
    .bind(column(|j| Some(&j.0.timestamp)))
    .bind(column(|j| Some(&j.0.signature)))
    .bind(&outputs)
    .bind(column(|j| j.0.parse_error.as_deref()))
    .bind(fresh.iter().map(|j| &j.0.body[..]).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    let stored = rows
        .iter()
        .map(|row| (row.get("message_id"), row.get("seq")))
        .collect();
    Ok((stored, numbers))
}

/// For the events stored (under the log lock): exception rows for the outputs that skip them
/// (disabled), the outputs' `last_named` and counts, and a wake-up for the outputs that got
/// deliveries.
async fn record_deliveries(
    tx: &mut Transaction<'_, Postgres>,
    fresh: &[&Job],
    seqs: &HashMap<String, i64>,
    numbers: &Numbers,
) -> anyhow::Result<()> {
    let number = |name: &str| {
        numbers
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, no)| *no)
    };
    let mut counts = Counts::default();
    let mut last_named: Vec<(i64, i64)> = Vec::new();
    let mut skipped: Vec<Skipped<'_>> = Vec::new();
    for job in fresh {
        let Some(seq) = seqs.get(&job.0.message_id) else {
            continue;
        };
        for delivery in &job.1 {
            let no = number(&delivery.output);
            counts.add(&delivery.output, delivery.status.as_str(), 1);
            if delivery.status == Status::Pending {
                match last_named.iter_mut().find(|(n, _)| *n == no) {
                    Some(entry) => entry.1 = entry.1.max(*seq),
                    None => last_named.push((no, *seq)),
                }
            } else {
                skipped.push((
                    ids::delivery_id(*seq, no),
                    &delivery.output,
                    *seq,
                    job,
                    delivery,
                ));
            }
        }
    }
    insert_skipped(tx, &skipped).await?;
    last_named.sort_unstable();
    sqlx::query(
        "UPDATE cursor_end e SET last_named = GREATEST(e.last_named, v.seq)
         FROM unnest($1::int8[], $2::int8[]) AS v(no, seq) WHERE e.no = v.no",
    )
    .bind(last_named.iter().map(|(no, _)| *no).collect::<Vec<_>>())
    .bind(last_named.iter().map(|(_, seq)| *seq).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    super::counts::add(tx, &counts, super::counts::Writer::Accept).await?;
    announce(tx, fresh).await
}

/// A new event's delivery to an output that skips it.
type Skipped<'a> = (i64, &'a str, i64, &'a Job, &'a crate::store::NewDelivery);

/// Exception rows for the deliveries skipped at accept (their output disabled).
async fn insert_skipped(
    tx: &mut Transaction<'_, Postgres>,
    skipped: &[Skipped<'_>],
) -> anyhow::Result<()> {
    if skipped.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO exception (id, output, seq, message_id, event_type, status, created_at, next_attempt_at, last_error, finished_at)
         SELECT id, output, seq, message_id, event_type, status, at, at, last_error, at
         FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[])
             AS v(id, output, seq, message_id, event_type, status, at, last_error)",
    )
    .bind(skipped.iter().map(|s| s.0).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.1).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.2).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.3.0.message_id.as_str()).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.3.0.event_type.as_str()).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.4.status.as_str()).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.3.0.received_at).collect::<Vec<_>>())
    .bind(skipped.iter().map(|s| s.4.last_error.as_deref()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Wakes the replica sending each output that got a pending delivery (NOTIFY, sent at commit).
async fn announce(tx: &mut Transaction<'_, Postgres>, fresh: &[&Job]) -> anyhow::Result<()> {
    let mut announced: Vec<&str> = fresh
        .iter()
        .flat_map(|job| job.1.iter())
        .filter(|d| d.status == Status::Pending)
        .map(|d| d.output.as_str())
        .collect();
    announced.sort_unstable();
    announced.dedup();
    if !announced.is_empty() {
        sqlx::query("SELECT pg_notify($1, o) FROM unnest($2::text[]) AS o")
            .bind(CHANNEL)
            .bind(&announced)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Commits a group of send outcomes (see `settle.rs`).
pub(super) fn complete_group<'a>(pool: &'a PgPool, done: &'a [Completion]) -> Pending<'a, ()> {
    Box::pin(async move {
        let mut tx = pool.begin().await?;
        super::settle::settle(&mut tx, done).await?;
        tx.commit().await?;
        Ok(vec![(); done.len()])
    })
}
