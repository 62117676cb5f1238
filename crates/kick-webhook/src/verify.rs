//! The one check every Kick delivery goes through, whoever receives it: this crate's
//! [`crate::Receiver`] and the `kick-relay` binary's ingest both call [`authenticate`] and
//! [`read_body`], so a rejection has one cause, one text and one place to change it.

use axum::{
    body::{Body, Bytes},
    http::HeaderMap,
};
use kick_models::{WebhookHeaders, drops};
use kick_verify::{SignedMessage, VerifyError, Window};

use crate::{KeyStore, Rejection};

/// Reads the `Kick-Event-*` headers (a channel event's set, or a Drops claim's), checks the
/// timestamp against `window` at `now_secs` (Unix seconds; `None`: no window) and verifies the
/// signature over `body` with `keys` (which may fetch Kick's key again once when a signature
/// fails). The parsed headers, or why the delivery is refused.
///
/// # Errors
/// [`Rejection::BadHeader`], [`Rejection::Stale`], [`Rejection::MalformedSignature`] or
/// [`Rejection::BadSignature`].
pub async fn authenticate(
    keys: &KeyStore,
    window: Option<Window>,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<WebhookHeaders, Rejection> {
    let parsed =
        drops::any_headers_from_pairs(|| headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
            .map_err(Rejection::BadHeader)?;
    if let Some(window) = window {
        window
            .check(parsed.meta.timestamp.unix_seconds(), now_secs)
            .map_err(Rejection::Stale)?;
    }
    let signed = SignedMessage {
        message_id: &parsed.meta.message_id,
        timestamp: parsed.meta.timestamp.as_str(),
        body,
        signature_b64: &parsed.signature,
    };
    keys.verify(&signed).await.map_err(|err| {
        tracing::debug!(message_id = %parsed.meta.message_id, error = %err, "signature rejected");
        match err {
            VerifyError::MalformedSignature => Rejection::MalformedSignature,
            _ => Rejection::BadSignature,
        }
    })?;
    Ok(parsed)
}

/// Reads a request body of at most `limit` bytes.
///
/// # Errors
/// [`Rejection::TooLarge`] past the limit, [`Rejection::UnreadableBody`] when the connection
/// fails mid-body.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, Rejection> {
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(current) = cause {
            if current.is::<http_body_util::LengthLimitError>() {
                return Rejection::TooLarge { limit };
            }
            cause = current.source();
        }
        Rejection::UnreadableBody(format!("unreadable body: {err}"))
    })
}
