//! Reads on SQLite (rusqlite), run on the store's reader thread for everything but the queue,
//! never waiting for the writer: the same SQL as PostgreSQL's (`store/read.rs`), but the
//! counts by output and status, which come from `outbox_count` (kept by every write), and the
//! oldest pending row, from the head of each output's queue.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::operator::REQUEUES;
use crate::store::{
    AttemptRow, DeliveryDetail, DeliveryRow, OutputOverview, Stats,
    read::{
        ATTEMPTS, BACKLOG, DETAIL, DISABLED_OUTPUTS, INBOX_COUNT, LIST, NEWEST_ERROR,
        OUTPUT_DISABLED,
    },
};

/// Counts by output and status, from the table every write keeps.
const COUNTS: &str = "SELECT output, status, n FROM outbox_count WHERE n != 0";
/// The creation time of the oldest pending row, from the head of each output's queue.
const OLDEST: &str = "SELECT MIN((SELECT o.created_at FROM outbox o \
                 WHERE o.output = c.output AND o.status = 'pending' ORDER BY o.id LIMIT 1)) \
     FROM outbox_count c WHERE c.status = 'pending' AND c.n > 0";

/// Whether `output` is disabled, and why.
///
/// # Errors
/// A read failure.
pub(super) fn output_disabled(read: &Connection, output: &str) -> anyhow::Result<Option<String>> {
    let reason: Option<Option<String>> = read
        .prepare_cached(OUTPUT_DISABLED)?
        .query_row([output], |row| row.get(0))
        .optional()?;
    Ok(reason.map(Option::unwrap_or_default))
}

/// The names of every output disabled in the store (by a 401/403/404/410, or by an operator,
/// possibly from another process).
///
/// # Errors
/// A read failure.
pub(super) fn disabled_outputs(read: &Connection) -> anyhow::Result<HashSet<String>> {
    let mut statement = read.prepare_cached(DISABLED_OUTPUTS)?;
    let names = statement.query_map([], |row| row.get(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

/// Counts for `/metrics` and `/readyz`.
///
/// # Errors
/// A read failure.
pub(super) fn stats(read: &Connection, now: i64) -> anyhow::Result<Stats> {
    let inbox = read
        .prepare_cached(INBOX_COUNT)?
        .query_row([], |row| row.get(0))?;
    let mut counts = read.prepare_cached(COUNTS)?;
    let by_status = counts
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let oldest: Option<i64> = read
        .prepare_cached(OLDEST)?
        .query_row([], |row| row.get(0))?;
    Ok(Stats {
        inbox,
        by_status,
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
    })
}

/// The requeues counted so far (0 before the first).
///
/// # Errors
/// A read failure.
pub(super) fn requeues(read: &Connection) -> anyhow::Result<i64> {
    Ok(read
        .prepare_cached(REQUEUES)?
        .query_row([], |row| row.get(0))?)
}

/// Deliveries, newest first.
///
/// # Errors
/// A read failure.
pub(super) fn list(
    read: &Connection,
    output: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<DeliveryRow>> {
    let mut statement = read.prepare_cached(LIST)?;
    let rows = statement.query_map(params![output, status, limit], delivery_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One delivery with its history and event.
///
/// # Errors
/// A read failure.
pub(super) fn detail(read: &Connection, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
    let found = read
        .prepare_cached(DETAIL)?
        .query_row([id], |r| {
            let body: Option<Vec<u8>> = r.get("event_body")?;
            Ok(DeliveryDetail {
                delivery: delivery_row(r)?,
                attempts: Vec::new(),
                finished_at: r.get("finished_at")?,
                event_timestamp: r.get("event_timestamp")?,
                event_body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
            })
        })
        .optional()?;
    let Some(mut detail) = found else {
        return Ok(None);
    };
    let mut attempts = read.prepare_cached(ATTEMPTS)?;
    detail.attempts = attempts
        .query_map([id], |a| {
            Ok(AttemptRow {
                at: a.get("at")?,
                status: a.get("status")?,
                http_status: a.get("http_status")?,
                error: a.get("error")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(detail))
}

/// Backlog, oldest pending age and newest error of `output`.
///
/// # Errors
/// A read failure.
pub(super) fn overview(
    read: &Connection,
    output: &str,
    now: i64,
) -> anyhow::Result<OutputOverview> {
    let (pending, oldest): (i64, Option<i64>) = read
        .prepare_cached(BACKLOG)?
        .query_row([output], |row| Ok((row.get("n")?, row.get("oldest")?)))?;
    let last_error = read
        .prepare_cached(NEWEST_ERROR)?
        .query_row([output], |row| Ok((row.get("error")?, row.get("at")?)))
        .optional()?;
    Ok(OutputOverview {
        pending,
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
        last_error,
    })
}

/// A delivery as listed, from a row with the outbox's columns.
fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get("id")?,
        message_id: r.get("message_id")?,
        output: r.get("output")?,
        event_type: r.get("event_type")?,
        status: r.get("status")?,
        attempts: r.get("attempts")?,
        created_at: r.get("created_at")?,
        last_status: r.get("last_status")?,
        last_error: r.get("last_error")?,
    })
}
