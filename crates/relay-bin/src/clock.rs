//! The wall clock, read in one place.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now as a `SystemTime`.
#[allow(clippy::disallowed_methods)] // the one place the relay reads the wall clock
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Now in Unix milliseconds.
pub fn now_ms() -> i64 {
    to_ms(now())
}

/// A time in Unix milliseconds.
pub fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Unix milliseconds as a `SystemTime`.
pub fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A time as RFC 3339 UTC with milliseconds (`2025-02-21T23:23:36.123Z`).
pub fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(to_ms(time)) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}
