//! Requests a worker rendered for rows whose send is to be retried, kept so the retry sends
//! the same request without rendering the event again (its body is shared, so keeping it copies
//! nothing). Bounded: a worker keeps at most [`MAX_ROWS`] rows and [`MAX_BYTES`] of bodies;
//! a row it does not keep is simply rendered again when it is read back.

use std::collections::BTreeMap;

use crate::store::{Head, Request};

/// At most this many rows kept per worker.
pub(super) const MAX_ROWS: usize = 256;
/// At most this many body bytes kept per worker.
pub(super) const MAX_BYTES: usize = 4 * 1024 * 1024;

/// The kept requests, by row id (with the message id, so a row id the store reuses after a
/// purge can never pick up another event's request).
#[derive(Debug, Default)]
pub(super) struct Retained {
    rows: BTreeMap<i64, (String, Request)>,
    bytes: usize,
}

impl Retained {
    /// Keeps the request rendered for `head`, when it has one and there is room.
    pub(super) fn keep(&mut self, head: &Head) {
        let Request::Rendered {
            headers,
            body,
            batch_line,
        } = &head.request
        else {
            return;
        };
        if self.rows.contains_key(&head.id)
            || self.rows.len() >= MAX_ROWS
            || self.bytes.saturating_add(body.len()) > MAX_BYTES
        {
            return;
        }
        self.bytes += body.len();
        let request = Request::Rendered {
            headers: headers.clone(),
            body: body.clone(),
            batch_line: batch_line.clone(),
        };
        self.rows
            .insert(head.id, (head.message_id.clone(), request));
    }

    /// The request kept for `head`, if any (it is no longer kept).
    pub(super) fn take(&mut self, head: &Head) -> Option<Request> {
        let (message_id, request) = self.rows.remove(&head.id)?;
        self.bytes -= request_bytes(&request);
        (message_id == head.message_id).then_some(request)
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
            if let Some((_, request)) = self.rows.remove(&id) {
                self.bytes -= request_bytes(&request);
            }
        }
    }

    /// Rows kept now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.rows.len()
    }
}

fn request_bytes(request: &Request) -> usize {
    match request {
        Request::Rendered { body, .. } => body.len(),
        Request::Event(_) | Request::Parsed(_) | Request::Gone => 0,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn head(id: i64, message_id: &str, body: usize) -> Head {
        Head {
            id,
            message_id: message_id.into(),
            attempts: 1,
            created_at: 0,
            sent_at: 0,
            next_attempt_at: 0,
            request: Request::Rendered {
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: Bytes::from(vec![b'x'; body]),
                batch_line: None,
            },
        }
    }

    #[test]
    fn a_kept_request_comes_back_once_and_only_for_its_own_event() {
        let mut retained = Retained::default();
        retained.keep(&head(7, "01A", 10));
        assert!(matches!(
            retained.take(&head(7, "01A", 0)),
            Some(Request::Rendered { body, .. }) if body.len() == 10
        ));
        assert!(retained.take(&head(7, "01A", 0)).is_none(), "taken once");
        retained.keep(&head(8, "01B", 10));
        assert!(
            retained.take(&head(8, "01OTHER", 0)).is_none(),
            "a reused row id is another event"
        );
        assert_eq!(retained.bytes, 0);
    }

    #[test]
    fn rows_and_bytes_are_bounded_and_a_read_forgets_what_it_did_not_return() {
        let mut retained = Retained::default();
        for id in 0..i64::try_from(MAX_ROWS).unwrap() + 10 {
            retained.keep(&head(id, "m", 1));
        }
        assert_eq!(retained.len(), MAX_ROWS);
        let mut big = Retained::default();
        big.keep(&head(1, "m", MAX_BYTES));
        big.keep(&head(2, "m", 1));
        assert_eq!(big.len(), 1, "the bytes bound holds");
        retained.forget_through(9, 19);
        assert_eq!(retained.len(), MAX_ROWS - 10);
        assert!(retained.take(&head(9, "m", 0)).is_some());
        assert!(retained.take(&head(10, "m", 0)).is_none());
        assert!(retained.take(&head(20, "m", 0)).is_some());
    }
}
