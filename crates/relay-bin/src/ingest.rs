//! The public listener: `POST {webhook_path}`: verify, record once, answer.

use std::{fmt::Write as _, sync::Arc, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use kick_models::{Delivery, KickEvent, WebhookHeaders};
use kick_verify::{SignedMessage, VerifyError, check_freshness};
use sha2::{Digest, Sha256};

use crate::{
    clock,
    metrics::Outcome,
    rejection::IngestRejection,
    relay::Relay,
    store::{Accepted, DedupScope, InboxRow, NewDelivery, Status},
};

/// Window in which an identical (type, version, body) under a new message id from *another*
/// subscription is a duplicate subscription's copy. Kick sends the copies of one occurrence
/// together, so they arrive within a second of each other; 30 s leaves room for Kick's own
/// queueing and a relay restart between them. It is kept short because a longer one only adds
/// ways to swallow a real repeat; a repeat from the same subscription is never matched.
pub const BODY_DEDUP_WINDOW: Duration = Duration::from_secs(30);

/// The public router: only the webhook path; everything else is 404, other methods 405.
pub fn router(relay: Arc<Relay>) -> Router {
    Router::new()
        .route(&relay.config.server.webhook_path, post(receive))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(relay)
}

async fn not_found(State(relay): State<Arc<Relay>>) -> Response {
    reject(
        &relay,
        IngestRejection::NotFound {
            webhook_path: relay.config.server.webhook_path.clone(),
        },
    )
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
    let now_ms = clock::now_ms();
    let parsed = authenticate(relay, headers, &body, now_ms).await?;
    let delivery = Arc::new(Delivery::parse(parsed, body.to_vec()));
    if let Err(err) = &delivery.event {
        tracing::warn!(message_id = %delivery.headers.meta.message_id, error = %err, "signed delivery does not fit its schema; stored unparsed");
    }
    let (inbox, outbox) = records(relay, &delivery, now_ms);
    match relay.store.accept(inbox, outbox).await {
        Ok(Accepted::New(rows)) => {
            relay.metrics.event_accepted(now_ms);
            tracing::debug!(message_id = %delivery.headers.meta.message_id, event_type = %delivery.headers.meta.event_type, outputs = rows, "accepted");
            if relay.dispatcher.publish(Arc::clone(&delivery)).is_err() {
                for output in &relay.outputs {
                    output.wake.notify_one();
                }
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
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(err)) => {
            // axum reports the limit as an error whose chain says "length limit exceeded" (the
            // end-to-end test for 1 MiB + 1 pins this to 413).
            let mut too_large = false;
            let mut cause: Option<&dyn std::error::Error> = Some(&err);
            while let Some(current) = cause {
                too_large |= current.to_string().contains("length limit");
                cause = current.source();
            }
            Err(if too_large {
                IngestRejection::TooLarge { limit }
            } else {
                IngestRejection::UnreadableBody(format!("unreadable body: {err}"))
            })
        }
        Err(_) => Err(IngestRejection::BodyTimeout {
            secs: timeout.as_secs(),
        }),
    }
}

/// Headers, timestamp window and signature: the parsed headers, or why not.
async fn authenticate(
    relay: &Relay,
    headers: &HeaderMap,
    body: &[u8],
    now_ms: i64,
) -> Result<WebhookHeaders, IngestRejection> {
    let parsed =
        WebhookHeaders::from_pairs(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
            .map_err(|err| IngestRejection::BadHeader(err.to_string()))?;
    let now_secs = now_ms.div_euclid(1000);
    relay.metrics.skew(
        now_secs
            .abs_diff(parsed.meta.timestamp.unix_seconds())
            .saturating_mul(1000),
    );
    let tolerance = relay.config.server.timestamp_tolerance_secs;
    if tolerance > 0 {
        check_freshness(
            parsed.meta.timestamp.as_str(),
            now_secs,
            Duration::from_secs(tolerance),
        )
        .map_err(|err| IngestRejection::Stale(err.to_string()))?;
    }
    let signed = SignedMessage {
        message_id: &parsed.meta.message_id,
        timestamp: parsed.meta.timestamp.as_str(),
        body,
        signature_b64: &parsed.signature,
    };
    if let Err(err) = relay.keys.verify(&signed).await {
        tracing::debug!(message_id = %parsed.meta.message_id, error = %err, "signature rejected");
        return Err(if err == VerifyError::MalformedSignature {
            IngestRejection::MalformedSignature
        } else {
            IngestRejection::BadSignature
        });
    }
    Ok(parsed)
}

/// The inbox row and one outbox row per output that takes the delivery.
fn records(relay: &Relay, delivery: &Delivery, now_ms: i64) -> (InboxRow, Vec<NewDelivery>) {
    let meta = &delivery.headers.meta;
    let retention_ms = relay.config.storage.retention_ms();
    let (dedup_key, dedup_window_ms, dedup_scope) =
        if let Some(KickEvent::ChatMessageSent(chat)) = delivery.event() {
            (
                format!("chat:{}", chat.message_id),
                retention_ms,
                DedupScope::Any,
            )
        } else {
            {
                let mut hash = Sha256::new();
                for part in [
                    meta.event_type.as_str().as_bytes(),
                    b"\0",
                    meta.version.as_bytes(),
                    b"\0",
                    &delivery.body,
                ] {
                    hash.update(part);
                }
                let hex = hash
                    .finalize()
                    .iter()
                    .fold(String::with_capacity(64), |mut hex, b| {
                        let _ = write!(hex, "{b:02x}");
                        hex
                    });
                (
                    format!("body:{hex}"),
                    i64::try_from(BODY_DEDUP_WINDOW.as_millis()).unwrap_or(i64::MAX),
                    DedupScope::OtherSubscription,
                )
            }
        };
    let inbox = InboxRow {
        message_id: meta.message_id.clone(),
        dedup_key: Some(dedup_key),
        dedup_window_ms,
        dedup_scope,
        received_at: now_ms,
        event_type: meta.event_type.as_str().to_owned(),
        version: meta.version.clone(),
        subscription_id: meta.subscription_id.clone(),
        timestamp: meta.timestamp.as_str().to_owned(),
        signature: delivery.headers.signature.clone(),
        body: delivery.body.to_vec(),
        parse_error: delivery.event.as_ref().err().map(ToString::to_string),
    };
    let mut outbox = Vec::new();
    for (index, output) in relay.outputs.iter().enumerate() {
        if !output.sink.wants(delivery) {
            continue;
        }
        let name = output.sink.name().to_owned();
        let row = match output.sink.render(delivery) {
            Ok(request) => NewDelivery {
                output: name,
                status: if relay.is_disabled(index) {
                    Status::Skipped
                } else {
                    Status::Pending
                },
                headers: serde_json::to_string(&request.headers).unwrap_or_else(|_| "[]".into()),
                body: request.body,
                batch_line: output.sink.batch_line(delivery),
                last_error: relay
                    .is_disabled(index)
                    .then(|| "output disabled".to_owned()),
            },
            Err(err) => NewDelivery {
                output: name,
                status: Status::Dead,
                headers: "[]".into(),
                body: Vec::new(),
                batch_line: None,
                last_error: Some(format!("render failed: {err}")),
            },
        };
        outbox.push(row);
    }
    (inbox, outbox)
}
