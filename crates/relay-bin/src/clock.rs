//! The wall clock, read in one place, and the [`Clock`] the relay is given so that tests can
//! move time.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Where the relay reads the time: the system's clock, or one a test controls.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Self(Arc::new(now))
    }

    /// A clock that reads `now` (a test's).
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// Now.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }

    /// Now in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        to_ms(self.now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock").finish_non_exhaustive()
    }
}

/// Now as a `SystemTime`, from the system's clock (the CLI's commands; the relay reads its
/// [`Clock`]).
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
