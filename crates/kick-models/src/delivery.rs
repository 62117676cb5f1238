//! One whole webhook delivery: headers, raw body and the parsed event.

use bytes::Bytes;

use crate::{KickEvent, ParseError, WebhookHeaders};

/// A delivery as received: its `Kick-Event-*` headers, the raw body bytes (what Kick signed),
/// and the event parsed from them.
///
/// Parsing never stops a delivery from existing: a known event whose body does not fit its
/// schema keeps the [`ParseError`] in `event`, so it can still be stored, forwarded byte for
/// byte, and looked at later.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The delivery's headers.
    pub headers: WebhookHeaders,
    /// The body exactly as received, shared: cloning it (to store, forward or send it) copies
    /// no bytes.
    pub body: Bytes,
    /// The parsed event, or why it could not be parsed.
    pub event: Result<KickEvent, ParseError>,
}

impl Delivery {
    /// Parses `body` by the type and version in `headers`. A `Vec<u8>` or [`Bytes`] body is
    /// taken over without a copy.
    pub fn parse(headers: WebhookHeaders, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let event = KickEvent::from_parts(&headers.meta.event_type, &headers.meta.version, &body);
        Self {
            headers,
            body,
            event,
        }
    }

    /// The parsed event, when the body fit.
    pub fn event(&self) -> Option<&KickEvent> {
        self.event.as_ref().ok()
    }
}
