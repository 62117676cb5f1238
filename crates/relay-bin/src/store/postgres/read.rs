//! Reads on PostgreSQL: through the pool; the counts by output and status from the queue's
//! index over every row.

use std::collections::HashSet;

use sqlx::Row;

use crate::store::{
    AttemptRow, DeliveryDetail, DeliveryRow, Head, OutputOverview, Stats, StoredEvent,
};

/// Up to `limit` pending deliveries of `output` with ids above `after`, oldest first,
/// each with its event from the inbox (or the request stored with it by an older
/// version).
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn pending_after(
    read: &sqlx::PgPool,
    output: &str,
    after: i64,
    limit: i64,
) -> anyhow::Result<Vec<Head>> {
    let rows = sqlx::query(crate::store::read::PENDING_AFTER)
        .bind(output)
        .bind(after)
        .bind(limit)
        .fetch_all(read)
        .await?;
    let mut heads = rows
        .into_iter()
        .map(|row| {
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
        })
        .collect::<anyhow::Result<Vec<Head>>>()?;
    Head::keep_within_bytes(&mut heads);
    Ok(heads)
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
    let inbox: i64 = sqlx::query_scalar(crate::store::read::INBOX_COUNT)
        .fetch_one(read)
        .await?;
    let rows =
        sqlx::query("SELECT output, status, COUNT(*) AS n FROM outbox GROUP BY output, status")
            .fetch_all(read)
            .await?;
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(read)
            .await?;
    Ok(Stats {
        inbox,
        by_status: rows
            .iter()
            .map(|r| (r.get("output"), r.get("status"), r.get("n")))
            .collect(),
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
    })
}

/// Deliveries, newest first.
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn list(
    read: &sqlx::PgPool,
    output: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<DeliveryRow>> {
    let rows = sqlx::query(crate::store::read::LIST)
        .bind(output)
        .bind(status)
        .bind(limit)
        .fetch_all(read)
        .await?;
    Ok(rows.iter().map(delivery_row).collect())
}

/// One delivery with its history and event.
///
/// # Errors
/// A read failure.
pub(in crate::store) async fn detail(
    read: &sqlx::PgPool,
    id: i64,
) -> anyhow::Result<Option<DeliveryDetail>> {
    let Some(r) = sqlx::query(crate::store::read::DETAIL)
        .bind(id)
        .fetch_optional(read)
        .await?
    else {
        return Ok(None);
    };
    let attempts = sqlx::query(crate::store::read::ATTEMPTS)
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
    let body: Option<Vec<u8>> = r.get("event_body");
    Ok(Some(DeliveryDetail {
        delivery: delivery_row(&r),
        attempts,
        finished_at: r.get("finished_at"),
        event_timestamp: r.get("event_timestamp"),
        event_body: body.map(|b| String::from_utf8_lossy(&b).into_owned()),
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
    let pending = sqlx::query(crate::store::read::BACKLOG)
        .bind(output)
        .fetch_one(read)
        .await?;
    let oldest: Option<i64> = pending.get("oldest");
    let error = sqlx::query(crate::store::read::NEWEST_ERROR)
        .bind(output)
        .fetch_optional(read)
        .await?;
    Ok(OutputOverview {
        pending: pending.get("n"),
        oldest_pending_ms: oldest.map(|created| now.saturating_sub(created)),
        last_error: error.map(|e| (e.get("error"), e.get("at"))),
    })
}

/// A delivery as listed, from a row with the outbox's columns.
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
