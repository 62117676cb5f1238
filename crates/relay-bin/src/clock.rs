//! The wall clock, read in one place, and the [`Clock`] the relay is given so that tests can
//! move time.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::Notify;

/// Where the relay reads the time: the system's clock, or one a test controls.
#[derive(Clone)]
pub struct Clock {
    now: Arc<dyn Fn() -> SystemTime + Send + Sync>,
    /// Rung when a test moves the clock, so that [`Clock::sleep`] looks again.
    moved: Option<Arc<Notify>>,
}

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Self {
        Self {
            now: Arc::new(now),
            moved: None,
        }
    }

    /// A clock that reads `now` (a test's).
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self {
            now: Arc::new(now),
            moved: None,
        }
    }

    /// A clock that reads `now` and is moved by its owner, who rings `moved` each time
    /// ([`Clock::sleep`] then wakes to look again).
    pub fn moved_by(
        now: impl Fn() -> SystemTime + Send + Sync + 'static,
        moved: Arc<Notify>,
    ) -> Self {
        Self {
            now: Arc::new(now),
            moved: Some(moved),
        }
    }

    /// Now.
    pub fn now(&self) -> SystemTime {
        (self.now)()
    }

    /// Waits until this clock has moved `by` forward: real time on the system's clock, or a
    /// test's moves (and real time) on a test's.
    pub async fn sleep(&self, by: Duration) {
        let deadline = self
            .now_ms()
            .saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        loop {
            let notified = self.moved.as_ref().map(|moved| moved.notified());
            let Some(left) = u64::try_from(deadline.saturating_sub(self.now_ms()))
                .ok()
                .filter(|left| *left > 0)
            else {
                return;
            };
            let wait = tokio::time::sleep(Duration::from_millis(left));
            match notified {
                Some(notified) => {
                    tokio::select! {
                        () = wait => {}
                        () = notified => {}
                    }
                }
                None => wait.await,
            }
        }
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
