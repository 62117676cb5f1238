//! Reads on PostgreSQL: through the pool; the counts by output and status from the queue's
//! index over every row.

use crate::store::{Head, StoredEvent};

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

// (`sqlx::Row`, which the queue's read uses, comes with the macro's imports.)
crate::store::read::reads!(
    sqlx::PgPool,
    sqlx::postgres::PgRow,
    "SELECT output, status, COUNT(*) AS n FROM outbox GROUP BY output, status",
    "SELECT MIN(created_at) FROM outbox WHERE status = 'pending'"
);
