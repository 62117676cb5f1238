//! The reads (output state, counts, lists and details), the same SQL on both backends but the
//! counts for `/metrics`: `reads!(Pool, Row, COUNTS, OLDEST)` defines them in a backend's
//! `read` module. The queue's read ([`PENDING_AFTER`]) is shared SQL too; SQLite runs it on a
//! thread of its own (`sqlite/reader.rs`), PostgreSQL through its pool (`postgres/read.rs`).

use anyhow::Context;

use super::{Request, StoredEvent};

/// Up to `$3` pending deliveries of output `$1` with ids above `$2`, oldest first, each with
/// its event from the inbox (or the request stored with it by an older version).
pub(super) const PENDING_AFTER: &str =
    "SELECT o.id, o.message_id, o.attempts, o.created_at, o.next_attempt_at,
        b.headers, b.body AS stored_body, b.batch_line,
        i.event_type, i.version, i.subscription_id, i.timestamp, i.signature, i.body
 FROM outbox o
 LEFT JOIN outbox_body b ON b.id = o.id
 LEFT JOIN inbox i ON i.message_id = o.message_id
 WHERE o.output = $1 AND o.status = 'pending' AND o.id > $2 ORDER BY o.id LIMIT $3";

/// What a queued row sends: the request an older version stored with it (`stored`: headers
/// as JSON, body, batch line), else its event from the inbox, else nothing (gone).
///
/// # Errors
/// Stored headers that are not JSON.
pub(super) fn request(
    stored: Option<(String, Vec<u8>, Option<String>)>,
    event: Option<StoredEvent>,
) -> anyhow::Result<Request> {
    Ok(match (stored, event) {
        (Some((headers, body, batch_line)), _) => Request::Rendered {
            headers: serde_json::from_str(&headers).context("stored headers are not JSON")?,
            body: body.into(),
            batch_line,
        },
        (None, Some(event)) => Request::Event(event),
        (None, None) => Request::Gone,
    })
}

/// Defines the read functions for one backend's pool and row types; `$counts` selects
/// `(output, status, n)` rows of the outbox, `$oldest` the creation time of the oldest
/// pending row.
macro_rules! reads {
    ($pool:ty, $row:ty, $counts:expr, $oldest:expr) => {
        use std::collections::HashSet;

        use sqlx::Row;

        use crate::store::{AttemptRow, DeliveryDetail, DeliveryRow, OutputOverview, Stats};

        /// Whether `output` is disabled, and why.
        ///
        /// # Errors
        /// A read failure.
        pub(in crate::store) async fn output_disabled(read: &$pool, output: &str) -> anyhow::Result<Option<String>> {
            let row = sqlx::query("SELECT reason FROM output_state WHERE name = $1 AND disabled")
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
        pub(in crate::store) async fn disabled_outputs(read: &$pool) -> anyhow::Result<HashSet<String>> {
            let names = sqlx::query_scalar("SELECT name FROM output_state WHERE disabled")
                .fetch_all(read)
                .await?;
            Ok(names.into_iter().collect())
        }

        /// Counts for `/metrics` and `/readyz`.
        ///
        /// # Errors
        /// A read failure.
        pub(in crate::store) async fn stats(read: &$pool, now: i64) -> anyhow::Result<Stats> {
            let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
                .fetch_one(read)
                .await?;
            let rows = sqlx::query($counts).fetch_all(read).await?;
            let oldest: Option<i64> = sqlx::query_scalar($oldest).fetch_one(read).await?;
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
            read: &$pool,
            output: Option<&str>,
            status: Option<&str>,
            limit: i64,
        ) -> anyhow::Result<Vec<DeliveryRow>> {
            let rows = sqlx::query(
                "SELECT id, message_id, output, event_type, status, attempts, created_at, last_status, last_error FROM outbox
                 WHERE ($1 IS NULL OR output = $1) AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3",
            )
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
        pub(in crate::store) async fn detail(read: &$pool, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
            let Some(r) = sqlx::query(
                "SELECT o.id, o.message_id, o.output, o.event_type, o.status, o.attempts, o.created_at, o.last_status, o.last_error, o.finished_at,
                        i.timestamp AS event_timestamp, i.body AS event_body
                 FROM outbox o LEFT JOIN inbox i ON i.message_id = o.message_id WHERE o.id = $1",
            )
            .bind(id)
            .fetch_optional(read)
            .await?
            else {
                return Ok(None);
            };
            let attempts = sqlx::query(
                "SELECT at, status, http_status, error FROM attempt WHERE outbox_id = $1 ORDER BY id",
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
        pub(in crate::store) async fn overview(read: &$pool, output: &str, now: i64) -> anyhow::Result<OutputOverview> {
            let pending = sqlx::query(
                "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE output = $1 AND status = 'pending'",
            )
            .bind(output)
            .fetch_one(read)
            .await?;
            let oldest: Option<i64> = pending.get("oldest");
            let error = sqlx::query(
                "SELECT a.error, a.at FROM attempt a JOIN outbox o ON o.id = a.outbox_id
                 WHERE o.output = $1 AND a.error IS NOT NULL AND a.status <> 'pending'
                 ORDER BY a.id DESC LIMIT 1",
            )
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
        fn delivery_row(r: &$row) -> DeliveryRow {
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
    };
}

pub(super) use reads;
