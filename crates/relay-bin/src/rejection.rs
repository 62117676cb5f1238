//! Why the public listener did not accept a request: the answer it gets and the outcome it is
//! counted as, in one place.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use kick_webhook::Rejection;

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
    /// Refused by the check every Kick delivery goes through ([`kick_webhook::authenticate`]):
    /// a missing or malformed header, a timestamp outside the window (`Config::freshness`), a
    /// malformed or wrong signature, a body that could not be read. Its text is kick-webhook's.
    Refused(Rejection),
    /// The store could not commit; Kick sends it again.
    StoreUnavailable,
}

impl From<Rejection> for IngestRejection {
    /// kick-webhook's answer, except a body over the limit, which names the relay's key.
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::TooLarge { limit } => Self::TooLarge { limit },
            other => Self::Refused(other),
        }
    }
}

impl IngestRejection {
    /// The outcome it is counted as.
    pub const fn outcome(&self) -> Outcome {
        match self {
            Self::NotFound => Outcome::NotFound,
            Self::TooLarge { .. } | Self::Refused(Rejection::TooLarge { .. }) => Outcome::TooLarge,
            Self::Busy => Outcome::Busy,
            Self::BodyTimeout { .. } => Outcome::BodyTimeout,
            Self::Refused(Rejection::Stale(_) | Rejection::BeyondMemory { .. }) => Outcome::Stale,
            Self::Refused(Rejection::MalformedSignature | Rejection::BadSignature) => {
                Outcome::BadSignature
            }
            Self::Refused(_) => Outcome::BadHeader,
            Self::StoreUnavailable => Outcome::StoreUnavailable,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy | Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Refused(rejection) => rejection.status(),
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
            Self::Refused(rejection) => rejection.to_string(),
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
        let bad_signature = IngestRejection::from(Rejection::BadSignature);
        assert_eq!(bad_signature.outcome().as_str(), "bad_signature");
        assert!(
            bad_signature
                .into_response()
                .headers()
                .get(header::RETRY_AFTER)
                .is_none()
        );
        let stale = IngestRejection::from(Rejection::Stale(kick_verify::FreshnessError::TooOld {
            age_secs: 90_000,
            max_secs: 82_500,
        }));
        assert_eq!(stale.outcome().as_str(), "stale");
        assert!(
            stale
                .message()
                .starts_with("Kick-Event-Message-Timestamp: timestamp is stale: 90000 s old"),
            "{}",
            stale.message()
        );
        let too_large = IngestRejection::from(Rejection::TooLarge { limit: 10 });
        assert_eq!(
            too_large.message(),
            "body larger than server.max_body_bytes (10 bytes)",
            "the relay's own text, naming its key"
        );
    }
}
