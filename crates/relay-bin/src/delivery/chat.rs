//! Chat on an output that combines it (Discord): several waiting chat rows as one message, and
//! chat older than `max_lag_secs` skipped and announced by one line.

use std::collections::VecDeque;

use relay_sinks::{RenderedRequest, SendOutcome};

use super::{POLL, Worker, pause_uninterrupted, ready::Ready};
use crate::store::{Completion, Status};

impl Worker<'_> {
    /// Sends the "skipped" line on its own when chat rows were skipped for lag and no chat
    /// message is left to carry it. Best effort: on a failure it waits for the next message.
    pub(super) async fn announce_skipped(&mut self) {
        if self.folded == 0 {
            return;
        }
        if let Some(wait) = self.output.sink.ready_in() {
            pause_uninterrupted(self.relay, wait.min(POLL * 5)).await;
            if self.output.sink.ready_in().is_some() {
                return;
            }
        }
        let Some((request, _)) = self.output.sink.combine(&[], self.folded) else {
            self.folded = 0;
            return;
        };
        match self
            .output
            .sink
            .send(&request, self.relay.clock.now())
            .await
        {
            SendOutcome::Delivered { .. } => self.folded = 0,
            outcome => {
                tracing::warn!(output = %self.name, outcome = ?outcome, "the \"skipped\" line was not sent; the next message carries it");
            }
        }
    }

    /// When the output keeps chat current (Discord's `max_lag_secs`) and `head` is a chat row
    /// waiting longer than that: records it and the chat rows after it that are more than half
    /// that old as skipped, to be announced by one line in the next message; the last id
    /// skipped. `None` (nothing skipped) otherwise.
    pub(super) async fn skip_stale_chat(
        &mut self,
        head: &Ready,
        rows: &mut VecDeque<Ready>,
        now: i64,
    ) -> Option<i64> {
        let max_lag = i64::try_from(self.output.max_lag?.as_millis()).unwrap_or(i64::MAX);
        if head.batch_line().is_none() || now.saturating_sub(head.created_at) <= max_lag {
            return None;
        }
        let keep_after = now.saturating_sub(max_lag / 2);
        let mut stale = vec![(head.id, head.attempts)];
        while let Some(next) = rows.front() {
            if next.batch_line().is_none() || next.created_at >= keep_after {
                break;
            }
            stale.push((next.id, next.attempts));
            rows.pop_front();
        }
        let reason = format!(
            "skipped: chat more than {}s behind (faster than Discord allows); replayable",
            max_lag / 1000
        );
        self.folded += stale.len();
        let last = stale.last().map(|(id, _)| *id);
        for (id, attempts) in stale {
            let completion = Completion {
                id,
                status: Status::Skipped,
                attempts,
                next_attempt_at: now,
                last_status: None,
                last_error: Some(reason.clone()),
                finished_at: Some(now),
                at: now,
            };
            self.committed
                .queue(self.relay, &self.name, completion)
                .await;
        }
        tracing::warn!(output = %self.name, skipped = self.folded, "chat is more than max_lag_secs behind: oldest waiting chat messages skipped");
        last
    }

    /// For a chat row (one with a batch line): `head` and the due chat rows after it as one
    /// request, with the "skipped" line when rows were skipped for lag, when the output combines
    /// (Discord). A chat row alone, or on an output that does not combine, goes out in its own
    /// form (a quiet chat keeps one message per chat message, under the sender's name).
    pub(super) fn combine(
        &mut self,
        head: Ready,
        rows: &mut VecDeque<Ready>,
        now: i64,
    ) -> (RenderedRequest, Vec<Ready>) {
        let mut group = vec![head];
        while let Some(next) = rows.front() {
            if next.batch_line().is_none() || next.next_attempt_at > now {
                break;
            }
            group.extend(rows.pop_front());
        }
        let combined = if group.len() > 1 || self.folded > 0 {
            let lines: Vec<&str> = group
                .iter()
                .map(|row| row.batch_line().unwrap_or_default())
                .collect();
            self.output.sink.combine(&lines, self.folded)
        } else {
            None
        };
        let (request, used) = match combined {
            Some((request, used)) => (Some(request), used.clamp(1, group.len())),
            None => (None, 1),
        };
        // What does not fit goes back, in order, for the next message.
        for row in group.drain(used..).rev() {
            rows.push_front(row);
        }
        match request {
            Some(request) => {
                self.folded = 0;
                (request, group)
            }
            None => alone(group.remove(0)),
        }
    }
}

/// The request rendered for `row`, sent on its own (the row keeps it too, for a retry).
pub(super) fn alone(row: Ready) -> (RenderedRequest, Vec<Ready>) {
    (row.request.clone(), vec![row])
}
