//! The contract every output implements.

use std::{fmt, time::Duration, time::SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use kick_models::Delivery;
use serde::{Deserialize, Serialize};

use crate::{EventFilter, RenderError};

/// The three kinds of output.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SinkKind {
    /// Discord webhook messages.
    Discord,
    /// multistreamer's Raw JSON, optionally signed (Standard Webhooks).
    Raw,
    /// Kick's original request, byte for byte.
    Forward,
}

impl SinkKind {
    /// `discord`, `raw` or `forward`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::Raw => "raw",
            Self::Forward => "forward",
        }
    }
}

impl fmt::Display for SinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The exact request an output will send for one event: body bytes and headers. Rendering is
/// pure, so the relay renders once and sends the same request as often as retries need (the
/// body is shared, so a clone copies no bytes). The URL is not part of it (it holds secrets and
/// belongs to the output).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RenderedRequest {
    /// Header name and value pairs, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl RenderedRequest {
    /// The body as text (lossy), for logs and tests.
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What one send attempt came to. The relay decides the schedule; this only classifies.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// The receiver took it (2xx).
    Delivered {
        /// The HTTP status.
        status: u16,
        /// Wait this long before the next request to this output (the receiver's rate-limit
        /// headers say its bucket is empty), if anything.
        wait: Option<Duration>,
    },
    /// Try again later: 408, 429, 5xx, timeout, connection failure.
    Retry {
        /// The HTTP status, when there was a response.
        status: Option<u16>,
        /// Not before this long, when the receiver said (`Retry-After`, Discord's `retry_after`,
        /// an empty rate-limit bucket).
        after: Option<Duration>,
        /// `true` for 429: the receiver is healthy, only busy. Not a failure for a breaker.
        rate_limited: bool,
        /// What happened, for logs and the delivery record.
        reason: String,
    },
    /// This request will never succeed (400 and other 4xx, a redirect): dead letter.
    Permanent {
        /// The HTTP status.
        status: u16,
        /// What happened.
        reason: String,
    },
    /// The output itself is gone or refuses us (401, 403, 404, 410): stop sending to it.
    Disable {
        /// The HTTP status.
        status: u16,
        /// What happened.
        reason: String,
    },
}

impl SendOutcome {
    /// How long to wait before the next request to the same output, whatever the outcome.
    pub fn wait(&self) -> Option<Duration> {
        match self {
            Self::Delivered { wait, .. } => *wait,
            Self::Retry { after, .. } => *after,
            Self::Permanent { .. } | Self::Disable { .. } => None,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Delivered { status, .. }
            | Self::Permanent { status, .. }
            | Self::Disable { status, .. } => Some(*status),
            Self::Retry { status, .. } => *status,
        }
    }
}

/// An output: chooses events, renders them, sends a rendered request once and classifies the
/// answer. Storage, scheduling and retries belong to the caller.
#[async_trait]
pub trait Sink: Send + Sync + fmt::Debug {
    /// The output's configured name (used in logs instead of its URL).
    fn name(&self) -> &str;

    /// Which kind of output this is.
    fn kind(&self) -> SinkKind;

    /// The output's event selection.
    fn filter(&self) -> &EventFilter;

    /// Whether this output takes `delivery`: its filter matches and it can render it (a
    /// Discord output declines events it has no message for, such as unknown types).
    fn wants(&self, delivery: &Delivery) -> bool {
        self.filter().matches(delivery)
    }

    /// The request to send for `delivery`. Pure: no I/O, no clock.
    ///
    /// # Errors
    /// [`RenderError`] when the delivery cannot be expressed in this output's format.
    fn render(&self, delivery: &Delivery) -> Result<RenderedRequest, RenderError>;

    /// Sends `request` once. `now` signs time-bound headers and reads `Retry-After` dates.
    async fn send(&self, request: &RenderedRequest, now: SystemTime) -> SendOutcome;

    /// The line `delivery` contributes when several deliveries go out as one request
    /// ([`Sink::combine`]), or `None` when it always goes out on its own. Pure, like
    /// [`Sink::render`]. Only a Discord output combines, and only chat messages.
    fn batch_line(&self, delivery: &Delivery) -> Option<String> {
        let _ = delivery;
        None
    }

    /// One request for the first of `lines` (from [`Sink::batch_line`], in order) that fit in
    /// one message, after a line saying `skipped` earlier lines were dropped when it is not
    /// zero; with how many of `lines` it carries. `None` when this output does not combine.
    fn combine(&self, lines: &[&str], skipped: usize) -> Option<(RenderedRequest, usize)> {
        let _ = (lines, skipped);
        None
    }

    /// How long until this output may send without being refused for its rate limits, when
    /// it knows (a Discord output paces itself this way); `None` to send now.
    fn ready_in(&self) -> Option<Duration> {
        None
    }
}
