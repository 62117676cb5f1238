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
///     Err(FreshnessError::TooOld { age_secs: 5016, max_secs: 600 })
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
///     Err(FreshnessError::InFuture { ahead_secs: 700, max_secs: 600 })
/// );
/// ```
pub fn check_freshness_at(
    at_unix: i64,
    now_unix: i64,
    tolerance: Duration,
) -> Result<(), FreshnessError> {
    Window::symmetric(tolerance)
        .check(at_unix, now_unix)
        .map(|_| ())
}

/// How far in the past and in the future a delivery's timestamp may lie.
///
/// The past bound need not be the future's: a receiver that remembers the message ids it has
/// seen for a day (as `kick-relay` does, durably) can take a delivery Kick retried hours after
/// an outage, since a replay of it is still caught as a duplicate. Keep `max_age` below what the
/// id memory covers, and `max_ahead` small (a timestamp from the future only means a clock is
/// off).
///
/// ```
/// use std::time::Duration;
/// use kick_verify::{FreshnessError, Window};
///
/// let now = 1_740_180_216;
/// let window = Window::new(Duration::from_hours(23), Duration::from_mins(5));
/// assert_eq!(window.check(now - 7_200, now), Ok(7_200)); // two hours late: taken
/// assert_eq!(
///     window.check(now + 600, now),
///     Err(FreshnessError::InFuture { ahead_secs: 600, max_secs: 300 })
/// );
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Window {
    max_age: Duration,
    max_ahead: Duration,
}

impl Window {
    /// A window taking timestamps up to `max_age` old and up to `max_ahead` in the future.
    pub const fn new(max_age: Duration, max_ahead: Duration) -> Self {
        Self { max_age, max_ahead }
    }

    /// The same bound both ways (the classic `tolerance`).
    pub const fn symmetric(tolerance: Duration) -> Self {
        Self::new(tolerance, tolerance)
    }

    /// How old a timestamp may be.
    pub const fn max_age(&self) -> Duration {
        self.max_age
    }

    /// How far in the future a timestamp may be.
    pub const fn max_ahead(&self) -> Duration {
        self.max_ahead
    }

    /// Checks `at_unix` against `now_unix` (seconds since the Unix epoch): its age in seconds
    /// (0 for a timestamp in the future) when it is inside the window. Arithmetic saturates; no
    /// input panics.
    ///
    /// # Errors
    /// [`FreshnessError::TooOld`] or [`FreshnessError::InFuture`], with the distance and the
    /// bound it broke.
    pub fn check(&self, at_unix: i64, now_unix: i64) -> Result<u64, FreshnessError> {
        if at_unix <= now_unix {
            let age_secs = now_unix.abs_diff(at_unix);
            let max_secs = self.max_age.as_secs();
            if age_secs > max_secs {
                return Err(FreshnessError::TooOld { age_secs, max_secs });
            }
            Ok(age_secs)
        } else {
            let ahead_secs = at_unix.abs_diff(now_unix);
            let max_secs = self.max_ahead.as_secs();
            if ahead_secs > max_secs {
                return Err(FreshnessError::InFuture {
                    ahead_secs,
                    max_secs,
                });
            }
            Ok(0)
        }
    }
}
