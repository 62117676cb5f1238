//! Reads of the inbox and outbox (PostgreSQL's tables: `postgres/read.rs` runs them), the
//! output states both backends read alike, and what a queued row sends ([`request`], both).
//! SQLite keeps a log and cursors instead and has its own reads (`sqlite/read.rs`,
//! `sqlite/reader.rs`).

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

/// Why output `$1` is disabled (no row: it is not).
pub(super) const OUTPUT_DISABLED: &str =
    "SELECT reason FROM output_state WHERE name = $1 AND disabled";
/// The names of the disabled outputs.
pub(super) const DISABLED_OUTPUTS: &str = "SELECT name FROM output_state WHERE disabled";
/// The events stored.
pub(super) const INBOX_COUNT: &str = "SELECT COUNT(*) FROM inbox";
/// Deliveries of output `$1` (any when null) in status `$2` (any when null), newest first, at
/// most `$3`.
pub(super) const LIST: &str = "SELECT id, message_id, output, event_type, status, attempts, created_at, last_status, last_error FROM outbox
 WHERE ($1 IS NULL OR output = $1) AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3";
/// Delivery `$1` with its event's timestamp and body.
pub(super) const DETAIL: &str = "SELECT o.id, o.message_id, o.output, o.event_type, o.status, o.attempts, o.created_at, o.last_status, o.last_error, o.finished_at,
        i.timestamp AS event_timestamp, i.body AS event_body
 FROM outbox o LEFT JOIN inbox i ON i.message_id = o.message_id WHERE o.id = $1";
/// Delivery `$1`'s attempts, oldest first.
pub(super) const ATTEMPTS: &str =
    "SELECT at, status, http_status, error FROM attempt WHERE outbox_id = $1 ORDER BY id";
/// Output `$1`'s pending deliveries and the oldest one's creation time.
pub(super) const BACKLOG: &str = "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE output = $1 AND status = 'pending'";
/// Output `$1`'s newest error and its time.
pub(super) const NEWEST_ERROR: &str =
    "SELECT a.error, a.at FROM attempt a JOIN outbox o ON o.id = a.outbox_id
 WHERE o.output = $1 AND a.error IS NOT NULL AND a.status <> 'pending'
 ORDER BY a.id DESC LIMIT 1";

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
