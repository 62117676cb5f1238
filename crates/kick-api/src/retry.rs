//! Retry policy: bounded exponential backoff with full jitter, honouring `Retry-After`.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How failed calls are retried: 429 always (Kick did not process the call), 5xx, timeouts and
/// broken connections only for calls that are safe to repeat (GET, DELETE, PATCH, and POSTs that
/// are idempotent), connection failures before the request was sent always.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 turns retrying off.
    pub max_retries: u32,
    /// The first backoff; doubled for each further retry.
    pub base_delay: Duration,
    /// No single wait is longer. A `Retry-After` asking for more ends the retries with
    /// [`crate::ApiErrorKind::RateLimited`], so the caller can decide.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries, 500 ms doubling, at most 30 s per wait.
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// `max_retries` retries, the first after up to `base_delay` (doubling), no wait longer
    /// than `max_delay`.
    pub const fn new(max_retries: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_retries,
            base_delay,
            max_delay,
        }
    }

    /// No retries.
    pub const fn none() -> Self {
        Self {
            max_retries: 0,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// The wait before retry number `retry` (0-based): a random duration up to
    /// `base_delay * 2^retry`, capped at `max_delay` (full jitter).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(retry))
            .min(self.max_delay);
        let mut bytes = [0_u8; 8];
        let fraction = if getrandom::fill(&mut bytes).is_ok() {
            #[allow(clippy::cast_precision_loss)] // 53 bits of randomness are plenty
            let f = (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64;
            f
        } else {
            1.0
        };
        ceiling.mul_f64(fraction)
    }
}

/// `Retry-After` in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}
