//! The public listener: `POST {webhook_path}`: verify, record once, answer.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use kick_models::{Delivery, WebhookHeaders};

use crate::{
    metrics::{LATE_AFTER_SECS, Outcome},
    records::records,
    rejection::IngestRejection,
    relay::Relay,
    store::Accepted,
};

/// The public router: only the webhook path; everything else is 404, other methods 405.
pub fn router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route(&relay.config.server.webhook_path, post(receive))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(relay)
}

async fn not_found(State(relay): State<Arc<Relay>>) -> Response {
    reject(&relay, IngestRejection::NotFound)
}

/// Counts `rejection` as its outcome and answers it.
fn reject(relay: &Relay, rejection: IngestRejection) -> Response {
    relay.metrics.request(rejection.outcome());
    rejection.into_response()
}

fn text(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn receive(State(relay): State<Arc<Relay>>, headers: HeaderMap, body: Body) -> Response {
    match accept(&relay, &headers, body).await {
        Ok(outcome) => {
            relay.metrics.request(outcome);
            // A signed body that did not fit its schema is stored all the same: for Kick it
            // is accepted like any other.
            text(if outcome == Outcome::Duplicate {
                "duplicate"
            } else {
                "accepted"
            })
        }
        Err(rejection) => reject(&relay, rejection),
    }
}

/// One request, from its body to the store: `accepted` (or `unparsed`) and `duplicate` are
/// answered 200, anything else is a rejection.
async fn accept(
    relay: &Relay,
    headers: &HeaderMap,
    body: Body,
) -> Result<Outcome, IngestRejection> {
    // Held until the answer: bounds the bodies (and what is rendered from them) in memory.
    let _reserved = reserve_body(relay, headers)?;
    let body = read_body(relay, body).await?;
    let now_ms = relay.clock.now_ms();
    let parsed = authenticate(relay, headers, &body, now_ms).await?;
    let delivery = Arc::new(Delivery::parse(parsed, body));
    if let Err(err) = &delivery.event {
        tracing::warn!(message_id = %delivery.headers.meta.message_id, error = %err, "signed delivery does not fit its schema; stored unparsed");
    }
    let (inbox, outbox) = records(
        &relay.outputs,
        relay.config.storage.retention_ms(),
        &delivery,
        now_ms,
    );
    match relay
        .store
        .accept(inbox, outbox, Some(Arc::clone(&delivery)))
        .await
    {
        Ok(Accepted::New(rows)) => {
            relay.metrics.event_accepted(now_ms);
            tracing::debug!(message_id = %delivery.headers.meta.message_id, event_type = %delivery.headers.meta.event_type, outputs = rows, "accepted");
            // The rows are committed: wake the workers now, then in-process listeners if any.
            for output in &relay.outputs {
                output.wake.notify_one();
            }
            if relay.dispatcher.listener_count() > 0 {
                let _ = relay.dispatcher.publish(Arc::clone(&delivery));
            }
            // An accepted body that did not fit its schema counts as `unparsed` only.
            Ok(if delivery.event.is_err() {
                Outcome::Unparsed
            } else {
                Outcome::Accepted
            })
        }
        Ok(Accepted::Duplicate) => Ok(Outcome::Duplicate),
        Err(err) => {
            tracing::error!(message_id = %delivery.headers.meta.message_id, error = %format!("{err:#}"), "could not store delivery; answering 503");
            Err(IngestRejection::StoreUnavailable)
        }
    }
}

/// Bodies up to this size (a declared `Content-Length`) need no reservation: every served
/// connection may hold one, so they are bounded by `server.max_connections`. Kick's deliveries
/// are a few KiB, so a flood of large or slow bodies cannot crowd them out.
pub const SMALL_BODY_BYTES: u64 = 16 * 1024;

/// Reserves room for a larger body in `server.max_buffered_body_bytes`: its `Content-Length`,
/// or `server.max_body_bytes` without one. A declared length over the limit gets 413 at once;
/// no room gets 503 with `Retry-After` (Kick retries; a flood of large bodies cannot grow
/// memory).
fn reserve_body<'a>(
    relay: &'a Relay,
    headers: &HeaderMap,
) -> Result<Option<tokio::sync::SemaphorePermit<'a>>, IngestRejection> {
    let limit = relay.config.server.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => return Err(IngestRejection::TooLarge { limit }),
        Some(length) if length <= SMALL_BODY_BYTES => return Ok(None),
        _ => {}
    }
    let bytes = declared
        .and_then(|length| u32::try_from(length).ok())
        .unwrap_or(u32::try_from(limit).unwrap_or(u32::MAX));
    relay
        .body_budget
        .try_acquire_many(bytes)
        .map(Some)
        .map_err(|_| {
            tracing::warn!(
                bytes,
                "request bodies in memory at server.max_buffered_body_bytes; answering 503"
            );
            IngestRejection::Busy
        })
}

/// Reads the body within `server.max_body_bytes` and `server.body_timeout_secs`.
async fn read_body(relay: &Relay, body: Body) -> Result<Bytes, IngestRejection> {
    let server = &relay.config.server;
    let limit = server.max_body_bytes;
    let timeout = Duration::from_secs(server.body_timeout_secs);
    match tokio::time::timeout(timeout, kick_webhook::read_body(body, limit)).await {
        Ok(read) => read.map_err(IngestRejection::from),
        Err(_) => Err(IngestRejection::BodyTimeout {
            secs: timeout.as_secs(),
        }),
    }
}

/// Headers, timestamp window and signature: the parsed headers, or why not.
///
/// The window is [`crate::config::Config::freshness`]: by default a delivery may be as old as
/// the duplicate memory can answer for (Kick retries for up to a day), and a few minutes
/// ahead. Only a delivery whose signature verified feeds the timestamp metrics.
async fn authenticate(
    relay: &Relay,
    headers: &HeaderMap,
    body: &[u8],
    now_ms: i64,
) -> Result<WebhookHeaders, IngestRejection> {
    let now_secs = now_ms.div_euclid(1000);
    // The check kick-webhook's receiver makes too: headers (a channel event's or a Drops
    // claim's), the window, the signature.
    let parsed = kick_webhook::authenticate(
        &relay.keys,
        relay.config.freshness(),
        headers,
        body,
        now_secs,
    )
    .await?;
    let at_secs = parsed.meta.timestamp.unix_seconds();
    let age_secs = u64::try_from(now_secs.saturating_sub(at_secs)).unwrap_or(0);
    relay
        .metrics
        .timestamp(now_secs.abs_diff(at_secs).saturating_mul(1000), age_secs);
    // One line at once, then at most one per period standing for the ones between: a
    // backlog Kick replays after an outage is all late (`late_log.rs`).
    if age_secs > LATE_AFTER_SECS
        && let Some(folded) = relay.late_log.note(now_ms, age_secs)
    {
        let also = if folded.count == 0 {
            String::new()
        } else {
            format!(
                "; {} more late deliveries since the last such line (the oldest {} late), \
                 counted in kick_relay_late_deliveries_total",
                folded.count,
                humanize_secs(folded.oldest_secs)
            )
        };
        tracing::info!(
            message_id = %parsed.meta.message_id,
            event_type = %parsed.meta.event_type,
            age_secs,
            folded = folded.count,
            "late delivery: Kick sent it {} after its timestamp; taken (inside the window){also}",
            humanize_secs(age_secs)
        );
    }
    Ok(parsed)
}

/// `secs` as people say it: "42 s", "17 min", "2 h 5 min".
fn humanize_secs(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ if secs % 3600 < 60 => format!("{} h", secs / 3600),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::humanize_secs;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(humanize_secs(42), "42 s");
        assert_eq!(humanize_secs(17 * 60 + 5), "17 min");
        assert_eq!(humanize_secs(7200), "2 h");
        assert_eq!(humanize_secs(2 * 3600 + 5 * 60), "2 h 5 min");
    }
}
