//! Requests a worker rendered for rows whose send is to be retried, kept so the retry sends
//! the same request without rendering the event again (its body is shared, so keeping it copies
//! nothing). Bounded: a worker keeps at most [`MAX_ROWS`] rows and [`MAX_BYTES`] of bodies;
//! a row it does not keep is simply rendered again when it is read back.

use std::collections::BTreeMap;

use relay_sinks::RenderedRequest;

use super::ready::Ready;
use crate::store::Head;

/// A kept request: the message id it was rendered for, the request, its batch line.
type Kept = (String, RenderedRequest, Option<String>);

/// At most this many rows kept per worker.
pub(super) const MAX_ROWS: usize = 256;
/// At most this many body bytes kept per worker.
pub(super) const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The kept requests, by row id (with the message id, so a row id the store reuses after a
/// purge can never pick up another event's request).
#[derive(Debug, Default)]
pub(super) struct Retained {
    rows: BTreeMap<i64, Kept>,
    bytes: usize,
}

impl Retained {
    /// Keeps the request rendered for `row`, when there is room.
    pub(super) fn keep(&mut self, row: &Ready) {
        let size = row.request.body.len();
        if self.rows.contains_key(&row.id)
            || self.rows.len() >= MAX_ROWS
            || self.bytes.saturating_add(size) > MAX_BYTES
        {
            return;
        }
        self.bytes += size;
        self.rows.insert(
            row.id,
            (
                row.message_id.clone(),
                row.request.clone(),
                row.batch_line.clone(),
            ),
        );
    }

    /// The request kept for `head` and its batch line, if any (it is no longer kept).
    pub(super) fn take(&mut self, head: &Head) -> Option<(RenderedRequest, Option<String>)> {
        let (message_id, request, batch_line) = self.rows.remove(&head.id)?;
        self.bytes -= request.body.len();
        (message_id == head.message_id).then_some((request, batch_line))
    }

    /// Forgets rows after `after` up to `last` that a read of the queue over that range did not
    /// return: they are no longer pending (delivered by another process, skipped, replayed).
    pub(super) fn forget_through(&mut self, after: i64, last: i64) {
        let gone: Vec<i64> = self
            .rows
            .range(after.saturating_add(1)..=last)
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some((_, request, _)) = self.rows.remove(&id) {
                self.bytes -= request.body.len();
            }
        }
    }

    /// Rows kept now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.rows.len()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::store::Request;

    /// A pending row as the store reads it back for a retry.
    fn head(id: i64, message_id: &str) -> Head {
        Head {
            id,
            message_id: message_id.into(),
            attempts: 1,
            created_at: 0,
            sent_at: 0,
            next_attempt_at: 0,
            request: Request::Gone,
        }
    }

    /// That row as the worker sent it, with a body of `body` bytes.
    fn sent(id: i64, message_id: &str, body: usize) -> Ready {
        let request = RenderedRequest {
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Bytes::from(vec![b'x'; body]),
        };
        Ready::new(head(id, message_id), request, None)
    }

    #[test]
    fn a_kept_request_comes_back_once_and_only_for_its_own_event() {
        let mut retained = Retained::default();
        retained.keep(&sent(7, "01A", 10));
        assert!(matches!(
            retained.take(&head(7, "01A")),
            Some((request, None)) if request.body.len() == 10
        ));
        assert!(retained.take(&head(7, "01A")).is_none(), "taken once");
        retained.keep(&sent(8, "01B", 10));
        assert!(
            retained.take(&head(8, "01OTHER")).is_none(),
            "a reused row id is another event"
        );
        assert_eq!(retained.bytes, 0);
    }

    #[test]
    fn rows_and_bytes_are_bounded_and_a_read_forgets_what_it_did_not_return() {
        let mut retained = Retained::default();
        for id in 0..i64::try_from(MAX_ROWS).unwrap() + 10 {
            retained.keep(&sent(id, "m", 1));
        }
        assert_eq!(retained.len(), MAX_ROWS);
        let mut big = Retained::default();
        big.keep(&sent(1, "m", MAX_BYTES));
        big.keep(&sent(2, "m", 1));
        assert_eq!(big.len(), 1, "the bytes bound holds");
        retained.forget_through(9, 19);
        assert_eq!(retained.len(), MAX_ROWS - 10);
        assert!(retained.take(&head(9, "m")).is_some());
        assert!(retained.take(&head(10, "m")).is_none());
        assert!(retained.take(&head(20, "m")).is_some());
    }
}
