//! Rendering a queued delivery for its output, when the worker is about to send it: from the
//! event the inbox keeps (Kick's headers and body), or the request an older version stored
//! with the row.

use kick_models::{Delivery, WebhookHeaders, header};
use relay_sinks::{RenderError, Sink};

use super::{BATCH, Worker};
use crate::store::{Completion, Head, Request, Status, StoredEvent};

impl Worker<'_> {
    /// Reads up to [`BATCH`] pending rows after `cursor` and renders them ([`Self::prepare`]);
    /// with how many rows were read and the last id read. `None` when the store could not be
    /// read (logged).
    pub(super) async fn read_batch(
        &mut self,
        cursor: i64,
    ) -> Option<(Vec<Head>, usize, Option<i64>)> {
        let batch = match self
            .relay
            .store
            .pending_after(&self.name, cursor, BATCH)
            .await
        {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(output = %self.name, error = %format!("{err:#}"), "cannot read the outbox");
                return None;
            }
        };
        let read = batch.len();
        let last_read = batch.last().map(|h| h.id);
        Some((self.prepare(batch).await, read, last_read))
    }

    /// Renders each row of `batch` for this output. Rows that cannot be sent are recorded and
    /// left out: skipped when the output has nothing to send for the event, dead when it cannot
    /// render it or the event is gone.
    pub(super) async fn prepare(&mut self, batch: Vec<Head>) -> Vec<Head> {
        let mut ready = Vec::with_capacity(batch.len());
        for mut head in batch {
            let request = std::mem::replace(&mut head.request, Request::Gone);
            let (status, why) = match request {
                Request::Rendered { .. } => {
                    head.request = request;
                    ready.push(head);
                    continue;
                }
                Request::Event(event) => {
                    match render(&*self.output.sink, &head.message_id, event) {
                        Ok(request) => {
                            head.request = request;
                            ready.push(head);
                            continue;
                        }
                        Err(failure) => failure,
                    }
                }
                Request::Gone => (
                    Status::Dead,
                    "the event is no longer stored (it outlived storage.retention_days)".to_owned(),
                ),
            };
            tracing::warn!(output = %self.name, message_id = %head.message_id, status = status.as_str(), reason = %why, "a delivery could not be rendered");
            self.relay.metrics.attempt(&self.name, status.as_str());
            let now = self.relay.clock.now_ms();
            let completion = Completion {
                id: head.id,
                status,
                attempts: head.attempts,
                next_attempt_at: now,
                last_status: None,
                last_error: Some(why),
                finished_at: Some(now),
                at: now,
            };
            self.committed
                .queue(self.relay, &self.name, completion)
                .await;
        }
        ready
    }
}

/// The request `sink` sends for the stored event, and its batch line; or the status and
/// reason to record instead.
fn render(
    sink: &dyn Sink,
    message_id: &str,
    event: StoredEvent,
) -> Result<Request, (Status, String)> {
    let mut pairs = vec![
        (header::MESSAGE_ID, message_id.as_bytes()),
        (header::SIGNATURE, event.signature.as_bytes()),
        (header::MESSAGE_TIMESTAMP, event.timestamp.as_bytes()),
        (header::EVENT_TYPE, event.event_type.as_bytes()),
        (header::EVENT_VERSION, event.version.as_bytes()),
    ];
    if let Some(subscription) = &event.subscription_id {
        pairs.push((header::SUBSCRIPTION_ID, subscription.as_bytes()));
    }
    let headers = WebhookHeaders::from_pairs(pairs).map_err(|err| {
        (
            Status::Dead,
            format!("stored headers no longer parse: {err}"),
        )
    })?;
    let delivery = Delivery::parse(headers, event.body);
    match sink.render(&delivery) {
        Ok(request) => Ok(Request::Rendered {
            headers: request.headers,
            body: request.body,
            batch_line: sink.batch_line(&delivery),
        }),
        Err(RenderError::Unsupported(why)) => {
            Err((Status::Skipped, format!("nothing to send: {why}")))
        }
        Err(err) => Err((Status::Dead, format!("render failed: {err}"))),
    }
}
