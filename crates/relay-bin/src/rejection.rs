//! Why the public listener did not accept a request: the answer it gets and the outcome it is
//! counted as, in one place.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::metrics::Outcome;

/// A request the relay does not store, and why.
#[derive(Debug)]
pub enum IngestRejection {
    /// Not the webhook path (the answer does not name it).
    NotFound,
    /// The body is (or says it is) larger than `server.max_body_bytes`.
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// No room for another large body now (`server.max_buffered_body_bytes`).
    Busy,
    /// The body did not arrive within `server.body_timeout_secs`.
    BodyTimeout {
        /// The limit, seconds.
        secs: u64,
    },
    /// The body could not be read.
    UnreadableBody(String),
    /// A `Kick-Event-*` header is missing or malformed (the message names it).
    BadHeader(String),
    /// The timestamp is outside the window (`Config::freshness`).
    Stale(String),
    /// `Kick-Event-Signature` is not Base64 of a 256-byte signature.
    MalformedSignature,
    /// The signature does not verify.
    BadSignature,
    /// The store could not commit; Kick sends it again.
    StoreUnavailable,
}

impl IngestRejection {
    /// The outcome it is counted as.
    pub const fn outcome(&self) -> Outcome {
        match self {
            Self::NotFound => Outcome::NotFound,
            Self::TooLarge { .. } => Outcome::TooLarge,
            Self::Busy => Outcome::Busy,
            Self::BodyTimeout { .. } => Outcome::BodyTimeout,
            Self::UnreadableBody(_) | Self::BadHeader(_) => Outcome::BadHeader,
            Self::Stale(_) => Outcome::Stale,
            Self::MalformedSignature | Self::BadSignature => Outcome::BadSignature,
            Self::StoreUnavailable => Outcome::StoreUnavailable,
        }
    }

    /// The HTTP status.
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy | Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::UnreadableBody(_)
            | Self::BadHeader(_)
            | Self::Stale(_)
            | Self::MalformedSignature
            | Self::BadSignature => StatusCode::BAD_REQUEST,
        }
    }

    /// The answer's text: what was wrong and, where it helps, what to do.
    pub fn message(&self) -> String {
        match self {
            // The webhook path is not named: a scanner learns nothing from a wrong guess.
            Self::NotFound => "not found".to_owned(),
            Self::TooLarge { limit } => {
                format!("body larger than server.max_body_bytes ({limit} bytes)")
            }
            Self::Busy => "busy: too many large request bodies in flight (server.max_buffered_body_bytes); retry later".into(),
            Self::BodyTimeout { secs } => {
                format!("body not received within server.body_timeout_secs ({secs}s)")
            }
            Self::UnreadableBody(why) | Self::BadHeader(why) => why.clone(),
            Self::Stale(why) => format!("Kick-Event-Message-Timestamp: {why}"),
            Self::MalformedSignature => {
                "malformed Kick-Event-Signature: expected standard Base64 of a 256-byte signature".into()
            }
            Self::BadSignature => "bad signature".into(),
            Self::StoreUnavailable => "storage unavailable; retry later".into(),
        }
    }

    /// `Retry-After` seconds for a refusal that a later try may pass.
    const fn retry_after(&self) -> Option<&'static str> {
        match self {
            Self::Busy => Some("1"),
            Self::StoreUnavailable => Some("5"),
            _ => None,
        }
    }
}

impl IntoResponse for IngestRejection {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.message(),
        )
            .into_response();
        if let Some(secs) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rejection_has_its_own_answer_and_label() {
        let timeout = IngestRejection::BodyTimeout { secs: 10 };
        assert_eq!(timeout.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            timeout.outcome().as_str(),
            "body_timeout",
            "not counted as a bad header"
        );
        let busy = IngestRejection::Busy.into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        let store = IngestRejection::StoreUnavailable.into_response();
        assert_eq!(store.headers()[header::RETRY_AFTER], "5");
        assert!(
            IngestRejection::BadSignature
                .into_response()
                .headers()
                .get(header::RETRY_AFTER)
                .is_none()
        );
        assert_eq!(
            IngestRejection::Stale("too old".into()).message(),
            "Kick-Event-Message-Timestamp: too old"
        );
    }
}
