//! Rendering a queued delivery for its output, when the worker is about to send it: from the
//! event the inbox keeps (Kick's headers and body), or the request an older version stored
//! with the row; a retry sends the request rendered for its first attempt when the worker
//! kept it.

use kick_models::{Delivery, WebhookHeaders, header};
use relay_sinks::{RenderError, RenderedRequest, Sink};

use super::{BATCH, Worker, ready::Ready};
use crate::store::{Completion, Head, READ_MAX_BYTES, Request, Status, StoredEvent};

/// A request rendered for a row, and the line it contributes to a combined message.
type Rendered = (RenderedRequest, Option<String>);

impl Worker<'_> {
    /// Reads up to [`BATCH`] pending rows after `cursor` and renders them ([`Self::prepare`]);
    /// with how many rows were read and the last id read. `None` when the store could not be
    /// read (logged).
    pub(super) async fn read_batch(
        &mut self,
        cursor: i64,
    ) -> Option<(Vec<Ready>, usize, Option<i64>)> {
        let batch = match self
            .relay
            .store
            .pending_after(&self.name, cursor, i64::try_from(BATCH).unwrap_or(i64::MAX))
            .await
        {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(output = %self.name, error = %format!("{err:#}"), "cannot read the outbox");
                return None;
            }
        };
        // A read that reached READ_MAX_BYTES may have left rows behind it (large events): it
        // counts as a full batch, so the worker reads on instead of thinking it caught up.
        let bytes = batch.iter().map(Head::bytes).fold(0, usize::saturating_add);
        let read = if bytes >= READ_MAX_BYTES {
            batch.len().max(BATCH)
        } else {
            batch.len()
        };
        let last_read = batch.last().map(|h| h.id);
        let ready = self.prepare(batch).await;
        if let Some(last) = last_read {
            self.retained.forget_through(cursor, last);
        }
        Some((ready, read, last_read))
    }

    /// Renders each row of `batch` for this output. Rows that cannot be sent are recorded and
    /// left out: skipped when the output has nothing to send for the event, dead when it cannot
    /// render it or the event is gone.
    pub(super) async fn prepare(&mut self, batch: Vec<Head>) -> Vec<Ready> {
        let mut ready = Vec::with_capacity(batch.len());
        for mut head in batch {
            if let Some((request, batch_line)) = self.retained.take(&head) {
                // A retry: send what was rendered for the first attempt.
                ready.push(Ready::new(head, request, batch_line));
                continue;
            }
            let rendered = match std::mem::replace(&mut head.request, Request::Gone) {
                Request::Rendered {
                    headers,
                    body,
                    batch_line,
                } => Ok((RenderedRequest { headers, body }, batch_line)),
                Request::Parsed(delivery) => render_parsed(&*self.output.sink, &delivery),
                Request::Event(event) => render(&*self.output.sink, &head.message_id, event),
                Request::Gone => Err((
                    Status::Dead,
                    "the event is no longer stored (it outlived storage.retention_days)".to_owned(),
                )),
            };
            let (status, why) = match rendered {
                Ok((request, batch_line)) => {
                    ready.push(Ready::new(head, request, batch_line));
                    continue;
                }
                Err(failure) => failure,
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
) -> Result<Rendered, (Status, String)> {
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
    render_parsed(sink, &Delivery::parse(headers, event.body))
}

/// The request `sink` sends for `delivery`, and its batch line; or the status and reason to
/// record instead.
fn render_parsed(sink: &dyn Sink, delivery: &Delivery) -> Result<Rendered, (Status, String)> {
    match sink.render(delivery) {
        Ok(request) => Ok((request, sink.batch_line(delivery))),
        Err(RenderError::Unsupported(why)) => {
            Err((Status::Skipped, format!("nothing to send: {why}")))
        }
        Err(err) => Err((Status::Dead, format!("render failed: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    use relay_sinks::{DiscordSink, EventFilter, ForwardSink, HttpOptions};

    use super::*;

    fn stored(event_type: &str, body: &str, timestamp: &str) -> StoredEvent {
        StoredEvent {
            event_type: event_type.into(),
            version: "1".into(),
            subscription_id: Some("01SUB".into()),
            timestamp: timestamp.into(),
            signature: "c2ln".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    const FOLLOW: &str = r#"{"broadcaster":{"user_id":1,"username":"s","channel_slug":"s"},"follower":{"user_id":2,"username":"f","channel_slug":"f"}}"#;

    #[test]
    fn a_forward_output_sends_kicks_request_as_stored() {
        let sink = ForwardSink::new(
            "fwd",
            "https://example.com/kick".parse().unwrap(),
            EventFilter::all(),
            HttpOptions::default(),
        )
        .unwrap();
        let event = stored("channel.followed", FOLLOW, "2025-02-21T23:23:36Z");
        let Ok((request, batch_line)) = render(&sink, "01MSG", event) else {
            panic!("rendered");
        };
        assert_eq!(request.body, FOLLOW.as_bytes());
        assert!(batch_line.is_none());
        let header = |name: &str| request.header(name);
        assert_eq!(header("Kick-Event-Message-Id"), Some("01MSG"));
        assert_eq!(header("Kick-Event-Signature"), Some("c2ln"));
        assert_eq!(header("Kick-Event-Subscription-Id"), Some("01SUB"));
    }

    #[test]
    fn nothing_to_send_is_skipped_and_a_broken_row_is_dead() {
        let discord = DiscordSink::new(
            "d",
            "https://discord.com/api/webhooks/1/t".parse().unwrap(),
            EventFilter::all(),
            HttpOptions::default(),
        )
        .unwrap();
        let unknown = stored(
            "channel.raid.started",
            r#"{"raid":1}"#,
            "2025-02-21T23:23:36Z",
        );
        let Err((status, why)) = render(&discord, "01MSG", unknown) else {
            panic!("discord has no message for an unknown event");
        };
        assert_eq!(status, Status::Skipped);
        assert!(why.starts_with("nothing to send"), "{why}");
        let broken = stored("channel.followed", FOLLOW, "not a time");
        let Err((status, why)) = render(&discord, "01MSG", broken) else {
            panic!("stored headers that no longer parse");
        };
        assert_eq!(status, Status::Dead);
        assert!(why.contains("no longer parse"), "{why}");
    }
}
