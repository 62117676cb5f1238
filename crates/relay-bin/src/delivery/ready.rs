//! A row the worker may send: its place and history in the queue, and the request rendered
//! for it. [`super::Worker::prepare`] is the only maker, so a send always has its request:
//! there is no "not rendered yet" left for the send to get wrong.

use relay_sinks::RenderedRequest;

use crate::store::Head;

/// A pending row, rendered for its output.
#[derive(Clone, Debug)]
pub(super) struct Ready {
    /// Row id (also the queue order).
    pub(super) id: i64,
    /// Kick's `Kick-Event-Message-Id`.
    pub(super) message_id: String,
    /// Attempts made.
    pub(super) attempts: i64,
    /// When it was queued (Unix ms).
    pub(super) created_at: i64,
    /// When Kick sent it (Unix ms; see [`Head::sent_at`]).
    pub(super) sent_at: i64,
    /// Not before this time (Unix ms).
    pub(super) next_attempt_at: i64,
    /// What to send.
    pub(super) request: RenderedRequest,
    /// The line it contributes when several go out as one message (Discord chat).
    pub(super) batch_line: Option<String>,
}

impl Ready {
    /// `head` with the request rendered for it (what the store gave to render it from is
    /// dropped).
    pub(super) fn new(head: Head, request: RenderedRequest, batch_line: Option<String>) -> Self {
        Self {
            id: head.id,
            message_id: head.message_id,
            attempts: head.attempts,
            created_at: head.created_at,
            sent_at: head.sent_at,
            next_attempt_at: head.next_attempt_at,
            request,
            batch_line,
        }
    }

    /// The line it contributes to a combined message, if it is chat on an output that combines.
    pub(super) fn batch_line(&self) -> Option<&str> {
        self.batch_line.as_deref()
    }
}
