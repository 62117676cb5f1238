//! Reads on SQLite (rusqlite), run on the store's reader thread for everything but the queue,
//! never waiting for the writer. A delivery is an exception row, or else an event of the log
//! its output takes: delivered at or below the output's cursor, pending above it.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    cursors::{self, Cursor},
    operator::REQUEUES,
};
use crate::store::{
    AttemptRow, DeliveryDetail, DeliveryRow, OutputOverview, Stats, ids,
    read::{DISABLED_OUTPUTS, OUTPUT_DISABLED},
};

/// Counts by output and status, from the table every write keeps.
const COUNTS: &str = "SELECT output, status, n FROM delivery_count WHERE n != 0";
/// The columns of a listed delivery, from an exception row.
const EXCEPTION_ROW: &str = "SELECT id, message_id, output, event_type, status, attempts, created_at, last_status, last_error FROM exception";
/// Events of output `?1` (mark `?2`) without an exception row, in `(?3, ?4]`, newest first, at
/// most `?5`.
const PLAIN_NEWEST: &str = "SELECT l.seq, l.message_id, l.event_type, l.received_at FROM log l \
     WHERE l.seq > ?3 AND l.seq <= ?4 AND instr(l.outputs, ?2) \
     AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | ?1) \
     ORDER BY l.seq DESC LIMIT ?5";
/// The oldest event of output `?1` (mark `?2`) without an exception row in `(?3, ?4]`.
const PLAIN_OLDEST: &str = "SELECT l.received_at FROM log l \
     WHERE l.seq > ?3 AND l.seq <= ?4 AND instr(l.outputs, ?2) \
     AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | ?1) \
     ORDER BY l.seq LIMIT 1";

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
        .prepare_cached("SELECT COUNT(*) FROM log")?
        .query_row([], |row| row.get(0))?;
    let mut counts = read.prepare_cached(COUNTS)?;
    let by_status = counts
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut oldest: Option<i64> = None;
    for cursor in cursors::all(read)? {
        if let Some(created) = oldest_pending(read, &cursor)? {
            oldest = Some(oldest.map_or(created, |o: i64| o.min(created)));
        }
    }
    Ok(Stats {
        inbox,
        by_status,
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
    })
}

/// When the oldest pending delivery of `cursor`'s output was queued.
fn oldest_pending(read: &Connection, cursor: &Cursor) -> anyhow::Result<Option<i64>> {
    let explicit: Option<i64> = read
        .prepare_cached(
            "SELECT created_at FROM exception WHERE output = ?1 AND status = 'pending' ORDER BY id LIMIT 1",
        )?
        .query_row([&cursor.output], |row| row.get(0))
        .optional()?;
    let plain: Option<i64> = if cursor.last_named > cursor.seq {
        read.prepare_cached(PLAIN_OLDEST)?
            .query_row(
                params![
                    cursor.no,
                    ids::mark(cursor.no),
                    cursor.seq,
                    cursor.last_named
                ],
                |row| row.get(0),
            )
            .optional()?
    } else {
        None
    };
    Ok(match (explicit, plain) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
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

/// Deliveries, newest first: exception rows, and events of the log without one (delivered
/// at or below their output's cursor, pending above).
///
/// # Errors
/// A read failure.
pub(super) fn list(
    read: &Connection,
    output: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<DeliveryRow>> {
    let mut rows: Vec<DeliveryRow> = read
        .prepare_cached(&format!(
            "{EXCEPTION_ROW} WHERE (?1 IS NULL OR output = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3"
        ))?
        .query_map(params![output, status, limit], delivery_row)?
        .collect::<Result<_, _>>()?;
    for cursor in cursors::all(read)? {
        if output.is_some_and(|output| output != cursor.output) {
            continue;
        }
        let range = match status {
            None => Some((0, cursor.last_named)),
            Some("delivered") => Some((0, cursor.seq)),
            Some("pending") => Some((cursor.seq, cursor.last_named)),
            Some(_) => None,
        };
        let Some((from, to)) = range else { continue };
        let mut plain = read.prepare_cached(PLAIN_NEWEST)?;
        let found = plain.query_map(
            params![cursor.no, ids::mark(cursor.no), from, to, limit],
            |r| {
                let seq: i64 = r.get(0)?;
                Ok(cursor.plain_row(seq, r.get(1)?, r.get(2)?, r.get(3)?))
            },
        )?;
        for row in found {
            rows.push(row?);
        }
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.id));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// One delivery with its history and event.
///
/// # Errors
/// A read failure.
pub(super) fn detail(read: &Connection, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
    let found = read
        .prepare_cached(
            "SELECT e.id, e.message_id, e.output, e.event_type, e.status, e.attempts, e.created_at,
                    e.last_status, e.last_error, e.finished_at,
                    l.timestamp AS event_timestamp, l.body AS event_body
             FROM exception e LEFT JOIN log l ON l.seq = e.seq WHERE e.id = ?1",
        )?
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
    let Some(mut detail) = found.map_or_else(|| plain_detail(read, id), |d| Ok(Some(d)))? else {
        return Ok(None);
    };
    let mut attempts = read.prepare_cached(
        "SELECT at, status, http_status, error FROM history WHERE delivery_id = ?1 ORDER BY id",
    )?;
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

/// Delivery `id` when it has no exception row: an event of the log its output takes.
fn plain_detail(read: &Connection, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
    let (seq, no) = ids::split(id);
    let Some(cursor) = cursors::numbered(read, no)? else {
        return Ok(None);
    };
    if seq > cursor.last_named {
        return Ok(None);
    }
    let event = read
        .prepare_cached(
            "SELECT message_id, event_type, received_at, timestamp, body FROM log              WHERE seq = ?1 AND instr(outputs, ?2)",
        )?
        .query_row(params![seq, ids::mark(no)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })
        .optional()?;
    Ok(
        event.map(|(message_id, event_type, received_at, timestamp, body)| {
            let delivery = cursor.plain_row(seq, message_id, event_type, received_at);
            DeliveryDetail {
                finished_at: None,
                delivery,
                attempts: Vec::new(),
                event_timestamp: Some(timestamp),
                event_body: Some(String::from_utf8_lossy(&body).into_owned()),
            }
        }),
    )
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
    let pending: i64 = read
        .prepare_cached(
            "SELECT COALESCE((SELECT n FROM delivery_count WHERE output = ?1 AND status = 'pending'), 0)",
        )?
        .query_row([output], |row| row.get(0))?;
    let oldest = match cursors::of(read, output)? {
        Some(cursor) => oldest_pending(read, &cursor)?,
        None => None,
    };
    let last_error = read
        .prepare_cached(
            "SELECT h.error, h.at FROM history h JOIN exception e ON e.id = h.delivery_id
             WHERE e.output = ?1 AND h.error IS NOT NULL AND h.status <> 'pending'
             ORDER BY h.id DESC LIMIT 1",
        )?
        .query_row([output], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(OutputOverview {
        pending,
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
        last_error,
    })
}

/// A delivery as listed, from a row with the exception table's columns.
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
