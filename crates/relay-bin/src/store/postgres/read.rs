//! Reads on PostgreSQL, through the pool: the log, the cursors and the exception rows, read
//! as `sqlite/read.rs` reads them; the counts from `delivery_count`.

use std::collections::HashSet;

use sqlx::Row;

use super::cursors;
use crate::store::{
    AttemptRow, DeliveryDetail, DeliveryRow, Head, OutputOverview, Stats, StoredEvent, ids,
    log::{Cursor, merge_reads, take_heads},
};

/// Columns of a queued delivery read from the exception rows (`e`, with `b` and `l`) or from
/// the log alone (`l`), in the same order: see [`head`].
const EVENT_COLUMNS: &str =
    "l.event_type, l.version, l.subscription_id, l.timestamp, l.signature, l.body";

/// Output `output`'s pending deliveries with ids above `after`, oldest first, at most `limit`
/// (and at most `READ_MAX_BYTES` of events): its pending exception rows merged with the events
/// past its cursor that it takes without a row (as `sqlite/reader.rs` does).
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn pending_after(
    read: &sqlx::PgPool,
    output: &str,
    after: i64,
    limit: i64,
) -> anyhow::Result<Vec<Head>> {
    let Some(cursor) = cursor_of(read, output).await? else {
        return Ok(Vec::new());
    };
    let explicit = sqlx::query(&format!(
        "SELECT e.id, e.message_id, e.attempts, e.created_at, e.next_attempt_at,
            b.headers, b.body AS stored_body, b.batch_line, {EVENT_COLUMNS}
         FROM exception e
         LEFT JOIN stored_request b ON b.id = e.id
         LEFT JOIN log l ON l.seq = e.seq
         WHERE e.output = $1 AND e.status = 'pending' AND e.id > $2 ORDER BY e.id LIMIT $3"
    ))
    .bind(output)
    .bind(after)
    .bind(limit)
    .fetch_all(read)
    .await?;
    let first = take_heads(explicit.iter().map(head), limit)?;
    let from = cursor.seq.max(ids::split(after).0 - 1);
    let second = if cursor.last_named > from {
        let plain = sqlx::query(&format!(
            "SELECT (l.seq << 16) | $1 AS id, l.message_id, 0::int8 AS attempts, l.received_at AS created_at,
                l.received_at AS next_attempt_at, NULL::text AS headers, NULL::bytea AS stored_body,
                NULL::text AS batch_line, {EVENT_COLUMNS}
             FROM log l
             WHERE l.seq > $3 AND l.seq <= $4 AND ((l.seq << 16) | $1) > $5 AND strpos(l.outputs, $2) > 0
               AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | $1)
             ORDER BY l.seq LIMIT $6"
        ))
        .bind(cursor.no)
        .bind(ids::mark(cursor.no))
        .bind(from)
        .bind(cursor.last_named)
        .bind(after)
        .bind(limit)
        .fetch_all(read)
        .await?;
        take_heads(plain.iter().map(head), limit)?
    } else {
        (Vec::new(), i64::MAX)
    };
    Ok(merge_reads(first, second, limit))
}

/// A queued delivery from a row of [`pending_after`]'s reads.
fn head(row: &sqlx::postgres::PgRow) -> anyhow::Result<Head> {
    let stored = row
        .get::<Option<String>, _>("headers")
        .map(|headers| (headers, row.get("stored_body"), row.get("batch_line")));
    let event = row
        .get::<Option<String>, _>("event_type")
        .map(|event_type| StoredEvent {
            event_type,
            version: row.get("version"),
            subscription_id: row.get("subscription_id"),
            timestamp: row.get("timestamp"),
            signature: row.get("signature"),
            body: row.get("body"),
        });
    let created_at = row.get("created_at");
    Ok(Head {
        id: row.get("id"),
        message_id: row.get("message_id"),
        attempts: row.get("attempts"),
        created_at,
        sent_at: Head::sent_at(
            created_at,
            event.as_ref().map(|e: &StoredEvent| e.timestamp.as_str()),
        ),
        next_attempt_at: row.get("next_attempt_at"),
        request: crate::store::read::request(stored, event)?,
    })
}

/// Output `output`'s cursor, if it was ever given an event.
async fn cursor_of(read: &sqlx::PgPool, output: &str) -> anyhow::Result<Option<Cursor>> {
    Ok(
        sqlx::query(&format!("{} WHERE c.output = $1", cursors::COLUMNS))
            .bind(output)
            .fetch_optional(read)
            .await?
            .as_ref()
            .map(cursors::from_row),
    )
}

/// Every output's cursor.
async fn all_cursors(read: &sqlx::PgPool) -> anyhow::Result<Vec<Cursor>> {
    Ok(
        sqlx::query(&format!("{} ORDER BY c.output", cursors::COLUMNS))
            .fetch_all(read)
            .await?
            .iter()
            .map(cursors::from_row)
            .collect(),
    )
}

/// When the oldest pending delivery of `cursor`'s output was queued.
async fn oldest_pending(read: &sqlx::PgPool, cursor: &Cursor) -> anyhow::Result<Option<i64>> {
    let explicit: Option<i64> = sqlx::query_scalar(
        "SELECT created_at FROM exception WHERE output = $1 AND status = 'pending' ORDER BY id LIMIT 1",
    )
    .bind(&cursor.output)
    .fetch_optional(read)
    .await?;
    let plain: Option<i64> = if cursor.last_named > cursor.seq {
        sqlx::query_scalar(
            "SELECT l.received_at FROM log l WHERE l.seq > $3 AND l.seq <= $4 AND strpos(l.outputs, $2) > 0
               AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | $1)
             ORDER BY l.seq LIMIT 1",
        )
        .bind(cursor.no)
        .bind(ids::mark(cursor.no))
        .bind(cursor.seq)
        .bind(cursor.last_named)
        .fetch_optional(read)
        .await?
    } else {
        None
    };
    Ok(match (explicit, plain) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Whether `output` is disabled, and why.
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn output_disabled(
    read: &sqlx::PgPool,
    output: &str,
) -> anyhow::Result<Option<String>> {
    let row = sqlx::query(crate::store::read::OUTPUT_DISABLED)
        .bind(output)
        .fetch_optional(read)
        .await?;
    Ok(row.map(|row| row.get::<Option<String>, _>("reason").unwrap_or_default()))
}

/// The names of every output disabled in the store (by a 401/403/404/410, or by an
/// operator's `kick-relay outputs disable`, possibly from another process).
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn disabled_outputs(
    read: &sqlx::PgPool,
) -> anyhow::Result<HashSet<String>> {
    let names = sqlx::query_scalar(crate::store::read::DISABLED_OUTPUTS)
        .fetch_all(read)
        .await?;
    Ok(names.into_iter().collect())
}

/// Counts for `/metrics` and `/readyz`.
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn stats(read: &sqlx::PgPool, now: i64) -> anyhow::Result<Stats> {
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM log")
        .fetch_one(read)
        .await?;
    let by_status: Vec<(String, String, i64)> =
        sqlx::query_as(
            "SELECT output, status, SUM(n)::int8 FROM delivery_count GROUP BY output, status HAVING SUM(n) <> 0",
        )
            .fetch_all(read)
            .await?;
    let mut oldest: Option<i64> = None;
    for cursor in all_cursors(read).await? {
        if let Some(created) = oldest_pending(read, &cursor).await? {
            oldest = Some(oldest.map_or(created, |o| o.min(created)));
        }
    }
    Ok(Stats {
        inbox,
        by_status,
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
    })
}

/// Deliveries, newest first: exception rows, and events of the log without one (delivered
/// at or below their output's cursor, pending above).
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn list(
    read: &sqlx::PgPool,
    output: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<DeliveryRow>> {
    let mut rows: Vec<DeliveryRow> = sqlx::query(
        "SELECT id, message_id, output, event_type, status, attempts, created_at, last_status, last_error
         FROM exception WHERE ($1::text IS NULL OR output = $1) AND ($2::text IS NULL OR status = $2)
         ORDER BY id DESC LIMIT $3",
    )
    .bind(output)
    .bind(status)
    .bind(limit)
    .fetch_all(read)
    .await?
    .iter()
    .map(delivery_row)
    .collect();
    for cursor in all_cursors(read).await? {
        if output.is_some_and(|output| output != cursor.output) {
            continue;
        }
        let (from, to) = match status {
            None => (0, cursor.last_named),
            Some("delivered") => (0, cursor.seq),
            Some("pending") => (cursor.seq, cursor.last_named),
            Some(_) => continue,
        };
        let found = sqlx::query(
            "SELECT l.seq, l.message_id, l.event_type, l.received_at FROM log l
             WHERE l.seq > $3 AND l.seq <= $4 AND strpos(l.outputs, $2) > 0
               AND NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | $1)
             ORDER BY l.seq DESC LIMIT $5",
        )
        .bind(cursor.no)
        .bind(ids::mark(cursor.no))
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(read)
        .await?;
        rows.extend(found.iter().map(|r| {
            cursor.plain_row(
                r.get("seq"),
                r.get("message_id"),
                r.get("event_type"),
                r.get("received_at"),
            )
        }));
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.id));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(rows)
}

/// One delivery with its history and event.
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn detail(
    read: &sqlx::PgPool,
    id: i64,
) -> anyhow::Result<Option<DeliveryDetail>> {
    let found = sqlx::query(
        "SELECT e.id, e.message_id, e.output, e.event_type, e.status, e.attempts, e.created_at,
                e.last_status, e.last_error, e.finished_at,
                l.timestamp AS event_timestamp, l.body AS event_body
         FROM exception e LEFT JOIN log l ON l.seq = e.seq WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(read)
    .await?;
    let found = match found {
        Some(r) => {
            let body: Option<Vec<u8>> = r.get("event_body");
            Some(DeliveryDetail {
                delivery: delivery_row(&r),
                attempts: Vec::new(),
                finished_at: r.get("finished_at"),
                event_timestamp: r.get("event_timestamp"),
                event_body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
            })
        }
        None => plain_detail(read, id).await?,
    };
    let Some(mut detail) = found else {
        return Ok(None);
    };
    detail.attempts = sqlx::query(
        "SELECT at, status, http_status, error FROM history WHERE delivery_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(read)
    .await?
    .iter()
    .map(|a| AttemptRow {
        at: a.get("at"),
        status: a.get("status"),
        http_status: a.get("http_status"),
        error: a.get("error"),
    })
    .collect();
    Ok(Some(detail))
}

/// Delivery `id` when it has no exception row: an event of the log its output takes.
async fn plain_detail(read: &sqlx::PgPool, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
    let (seq, no) = ids::split(id);
    let cursor = sqlx::query(&format!("{} WHERE c.no = $1", cursors::COLUMNS))
        .bind(no)
        .fetch_optional(read)
        .await?
        .as_ref()
        .map(cursors::from_row);
    let Some(cursor) = cursor.filter(|c| seq <= c.last_named) else {
        return Ok(None);
    };
    let Some(r) = sqlx::query(
        "SELECT message_id, event_type, received_at, timestamp, body FROM log
         WHERE seq = $1 AND strpos(outputs, $2) > 0",
    )
    .bind(seq)
    .bind(ids::mark(no))
    .fetch_optional(read)
    .await?
    else {
        return Ok(None);
    };
    let body: Vec<u8> = r.get("body");
    Ok(Some(DeliveryDetail {
        delivery: cursor.plain_row(
            seq,
            r.get("message_id"),
            r.get("event_type"),
            r.get("received_at"),
        ),
        attempts: Vec::new(),
        finished_at: None,
        event_timestamp: r.get("timestamp"),
        event_body: Some(String::from_utf8_lossy(&body).into_owned()),
    }))
}

/// Backlog, oldest pending age and newest error of `output`.
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn overview(
    read: &sqlx::PgPool,
    output: &str,
    now: i64,
) -> anyhow::Result<OutputOverview> {
    let pending: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(n), 0)::int8 FROM delivery_count WHERE output = $1 AND status = 'pending'",
    )
    .bind(output)
    .fetch_one(read)
    .await?;
    let oldest = match cursor_of(read, output).await? {
        Some(cursor) => oldest_pending(read, &cursor).await?,
        None => None,
    };
    let error = sqlx::query(
        "SELECT h.error, h.at FROM history h JOIN exception e ON e.id = h.delivery_id
         WHERE e.output = $1 AND h.error IS NOT NULL AND h.status <> 'pending'
         ORDER BY h.id DESC LIMIT 1",
    )
    .bind(output)
    .fetch_optional(read)
    .await?;
    Ok(OutputOverview {
        pending,
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
        last_error: error.map(|e| (e.get("error"), e.get("at"))),
    })
}

/// A delivery as listed, from a row with the exception table's columns.
fn delivery_row(r: &sqlx::postgres::PgRow) -> DeliveryRow {
    DeliveryRow {
        id: r.get("id"),
        message_id: r.get("message_id"),
        output: r.get("output"),
        event_type: r.get("event_type"),
        status: r.get("status"),
        attempts: r.get("attempts"),
        created_at: r.get("created_at"),
        last_status: r.get("last_status"),
        last_error: r.get("last_error"),
    }
}
