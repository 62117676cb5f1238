//! The timestamp window check, separate from the signature and with `now` passed in.

use std::time::Duration;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::FreshnessError;

/// Parses an RFC 3339 date-time (0 to 9 fractional digits, `Z` or a numeric offset) into Unix
/// seconds.
///
/// # Errors
/// [`FreshnessError::Unparseable`] when the text is not RFC 3339.
pub fn parse_timestamp(timestamp: &str) -> Result<i64, FreshnessError> {
    OffsetDateTime::parse(timestamp, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| FreshnessError::Unparseable)
}

/// Checks that `timestamp` (the `Kick-Event-Message-Timestamp` header) lies within `tolerance` of
/// `now_unix` (seconds since the Unix epoch), in either direction.
///
/// The check is separate from [`crate::PublicKey::verify`] because Kick documents no window and
/// deliveries have arrived minutes late: choose a generous tolerance, and deduplicate on the
/// message id rather than relying on this check. Arithmetic saturates; no input panics.
///
/// # Errors
/// [`FreshnessError::Unparseable`], [`FreshnessError::TooOld`] or [`FreshnessError::InFuture`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use kick_verify::{FreshnessError, check_freshness};
///
/// let now = 1_740_180_216; // 2025-02-21T23:23:36Z
/// let ten_minutes = Duration::from_secs(600);
/// assert!(check_freshness("2025-02-21T23:20:00Z", now, ten_minutes).is_ok());
/// assert_eq!(
///     check_freshness("2025-02-21T22:00:00Z", now, ten_minutes),
///     Err(FreshnessError::TooOld { age_secs: 5016 })
/// );
/// ```
pub fn check_freshness(
    timestamp: &str,
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), FreshnessError> {
    check_freshness_at(parse_timestamp(timestamp)?, now_unix, tolerance)
}

/// [`check_freshness`] for a timestamp already parsed to Unix seconds (by kick-models'
/// `Timestamp`, say), so a request's timestamp is parsed once.
///
/// # Errors
/// [`FreshnessError::TooOld`] or [`FreshnessError::InFuture`] beyond `tolerance`.
///
/// ```
/// use std::time::Duration;
/// use kick_verify::{FreshnessError, check_freshness_at};
///
/// let now = 1_740_180_216;
/// assert!(check_freshness_at(now - 60, now, Duration::from_secs(600)).is_ok());
/// assert_eq!(
///     check_freshness_at(now + 700, now, Duration::from_secs(600)),
///     Err(FreshnessError::InFuture { ahead_secs: 700 })
/// );
/// ```
pub fn check_freshness_at(
    at_unix: i64,
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), FreshnessError> {
    let tolerance = tolerance.as_secs();
    if at_unix <= now_unix {
        let age_secs = now_unix.abs_diff(at_unix);
        if age_secs > tolerance {
            return Err(FreshnessError::TooOld { age_secs });
        }
    } else {
        let ahead_secs = at_unix.abs_diff(now_unix);
        if ahead_secs > tolerance {
            return Err(FreshnessError::InFuture { ahead_secs });
        }
    }
    Ok(())
}
