//! What a receiver answers a request it does not accept.

use std::fmt;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use kick_models::HeaderError;
use kick_verify::FreshnessError;

/// Why a request was not accepted, and the answer it gets. Kick only ever sees 400 for a
/// request that was not signed right, and 413 for one too large: a signed delivery whose body
/// does not fit its schema is still accepted (Kick drops apps whose URL keeps failing).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Rejection {
    /// A `Kick-Event-*` header is missing or malformed (400).
    BadHeader(HeaderError),
    /// `Kick-Event-Message-Timestamp` is outside the window (400).
    Stale(FreshnessError),
    /// The timestamp is older than one this receiver had to forget message ids for, so a
    /// repeat could not be told apart (400): by how many seconds.
    BeyondMemory {
        /// How much older than the oldest remembered, in seconds.
        secs: i64,
    },
    /// `Kick-Event-Signature` is not Base64 of a 256-byte signature (400).
    MalformedSignature,
    /// The signature does not verify with Kick's key (400).
    BadSignature,
    /// The body is larger than the receiver takes (413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read (400).
    UnreadableBody(String),
}

impl Rejection {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadHeader(why) => write!(f, "{why}"),
            Self::UnreadableBody(why) => f.write_str(why),
            Self::Stale(why) => write!(f, "Kick-Event-Message-Timestamp: {why}"),
            Self::BeyondMemory { secs } => write!(
                f,
                "Kick-Event-Message-Timestamp: timestamp is {secs} s older than the oldest this receiver still remembers message ids for, so a repeat could not be told apart; raise recent_ids"
            ),
            Self::MalformedSignature => f.write_str(
                "malformed Kick-Event-Signature: expected standard Base64 of a 256-byte signature",
            ),
            Self::BadSignature => f.write_str("bad signature"),
            Self::TooLarge { limit } => write!(f, "body larger than {limit} bytes"),
        }
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (
            self.status(),
            [("content-type", "text/plain; charset=utf-8")],
            self.to_string(),
        )
            .into_response()
    }
}
