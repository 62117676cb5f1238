//! What both backends read alike: the output states, and what a queued row sends
//! ([`request`]). The rest of the reads are each backend's (`sqlite/read.rs` and
//! `sqlite/reader.rs`, `postgres/read.rs`): the same model, the log with cursors and exception
//! rows, in each one's SQL.

use anyhow::Context;

use super::{Request, StoredEvent};

/// Why output `$1` is disabled (no row: it is not).
pub(super) const OUTPUT_DISABLED: &str =
    "SELECT reason FROM output_state WHERE name = $1 AND disabled";
/// The names of the disabled outputs.
pub(super) const DISABLED_OUTPUTS: &str = "SELECT name FROM output_state WHERE disabled";

/// What a queued row sends: the request an older version stored with it (`stored`: headers
/// as JSON, body, batch line), else its event from the log, else nothing (gone).
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
