//! Counters for `/metrics` (Prometheus text format), kept with atomics.

use std::{
    collections::{BTreeMap, VecDeque},
    fmt::Write as _,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
};

use crate::store::Stats;

/// What became of one webhook request, counted by `kick_relay_requests_total{outcome}`. Each
/// request has exactly one.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Outcome {
    /// Stored, new.
    Accepted,
    /// A message id (or a duplicate subscription's copy) seen before.
    Duplicate,
    /// Stored, but the body did not fit its event's schema.
    Unparsed,
    /// A missing or malformed header, or an unreadable body.
    BadHeader,
    /// The signature did not verify, or was malformed.
    BadSignature,
    /// The timestamp was outside the window.
    Stale,
    /// The body was larger than allowed.
    TooLarge,
    /// The body did not arrive within `server.body_timeout_secs`.
    BodyTimeout,
    /// The store could not commit.
    StoreUnavailable,
    /// Another path.
    NotFound,
    /// No room for another large body.
    Busy,
}

impl Outcome {
    /// Every outcome, in the order `/metrics` lists them.
    pub const ALL: [Self; 11] = [
        Self::Accepted,
        Self::Duplicate,
        Self::Unparsed,
        Self::BadHeader,
        Self::BadSignature,
        Self::Stale,
        Self::TooLarge,
        Self::BodyTimeout,
        Self::StoreUnavailable,
        Self::NotFound,
        Self::Busy,
    ];

    /// The metric label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Unparsed => "unparsed",
            Self::BadHeader => "bad_header",
            Self::BadSignature => "bad_signature",
            Self::Stale => "stale",
            Self::TooLarge => "too_large",
            Self::BodyTimeout => "body_timeout",
            Self::StoreUnavailable => "store_unavailable",
            Self::NotFound => "not_found",
            Self::Busy => "busy",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; Outcome::ALL.len()],
    skew_ms_sum: AtomicU64,
    skew_count: AtomicU64,
    /// Signed deliveries by age on arrival: one counter per [`AGE_BUCKETS_SECS`] bucket (not
    /// cumulative) and the last for older ones.
    age_buckets: [AtomicU64; AGE_BUCKETS_SECS.len() + 1],
    age_sum_secs: AtomicU64,
    attempts: Mutex<BTreeMap<String, BTreeMap<&'static str, u64>>>,
    latency_ms_sum: Mutex<BTreeMap<String, (u64, u64)>>,
    rate_limit_waits: AtomicU64,
    breakers: Mutex<BTreeMap<String, bool>>,
    /// Accepted events per minute, the last [`MINUTES`] minutes: (minute since the epoch, n).
    per_minute: Mutex<VecDeque<(i64, u64)>>,
    /// When the last event was accepted (Unix ms; 0: none yet).
    last_event_ms: AtomicI64,
    /// Recent ingest-to-delivery latencies per output: (when delivered, ms).
    recent_lags: Mutex<BTreeMap<String, VecDeque<(i64, u64)>>>,
    /// Subscription reconciler: runs that worked, runs that failed, subscriptions created,
    /// refused, removed.
    reconciler: [AtomicU64; 5],
}

/// Upper bounds (seconds) of `kick_relay_delivery_age_seconds`' buckets: from on time to the
/// day Kick retries a failing URL.
pub const AGE_BUCKETS_SECS: [u64; 10] = [1, 5, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400];
/// A signed delivery older than this on arrival is late: counted, and logged at info. Ten
/// minutes was the relay's strict window before late deliveries were kept.
pub const LATE_AFTER_SECS: u64 = 600;

/// Minutes of accepted-event counts kept for the admin page's chart.
pub const MINUTES: usize = 60;
/// Latency samples kept per output.
const LAG_SAMPLES: usize = 4096;

/// An output's recent ingest-to-delivery latency.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Lag {
    /// Deliveries it is computed over.
    pub samples: usize,
    /// Median, ms.
    pub p50_ms: u64,
    /// 99th percentile, ms.
    pub p99_ms: u64,
}

impl Metrics {
    /// Counts one run of the subscription reconciler and what it changed: subscriptions
    /// created, refused by Kick, removed.
    pub fn reconciled(&self, ok: bool, [created_n, failed_n, removed_n]: [usize; 3]) {
        let [runs_ok, runs_failed, created, failed, removed] = &self.reconciler;
        if ok { runs_ok } else { runs_failed }.fetch_add(1, Ordering::Relaxed);
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        created.fetch_add(count(created_n), Ordering::Relaxed);
        failed.fetch_add(count(failed_n), Ordering::Relaxed);
        removed.fetch_add(count(removed_n), Ordering::Relaxed);
    }

    /// Counts one ingest outcome.
    pub fn request(&self, outcome: Outcome) {
        if let Some(counter) = self.requests.get(outcome.index()) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How far a signed delivery's timestamp was from our clock (`skew_ms`, either way) and how
    /// old it was on arrival (`age_secs`, 0 when ahead). Only requests whose signature verified
    /// are counted, so unsigned requests cannot move these figures, and the sums saturate.
    pub fn timestamp(&self, skew_ms: u64, age_secs: u64) {
        saturating_add(&self.skew_ms_sum, skew_ms);
        saturating_add(&self.skew_count, 1);
        let bucket = AGE_BUCKETS_SECS
            .iter()
            .position(|le| age_secs <= *le)
            .unwrap_or(AGE_BUCKETS_SECS.len());
        if let Some(counter) = self.age_buckets.get(bucket) {
            saturating_add(counter, 1);
        }
        saturating_add(&self.age_sum_secs, age_secs);
    }

    /// Signed deliveries that arrived more than [`LATE_AFTER_SECS`] after their timestamp.
    pub fn late_deliveries(&self) -> u64 {
        let first_late = AGE_BUCKETS_SECS
            .iter()
            .position(|le| *le == LATE_AFTER_SECS)
            .map_or(AGE_BUCKETS_SECS.len(), |i| i + 1);
        self.age_buckets
            .iter()
            .skip(first_late)
            .map(|c| c.load(Ordering::Relaxed))
            .fold(0, u64::saturating_add)
    }

    /// Counts one send attempt.
    pub fn attempt(&self, output: &str, outcome: &'static str) {
        if let Ok(mut map) = self.attempts.lock()
            && let Some(outcomes) = by_output(&mut map, output)
        {
            *outcomes.entry(outcome).or_default() += 1;
        }
    }

    /// Ingest-to-delivery latency of one event delivered at `now_ms`.
    pub fn delivered_after(&self, output: &str, ms: u64, now_ms: i64) {
        if let Ok(mut map) = self.latency_ms_sum.lock()
            && let Some(entry) = by_output(&mut map, output)
        {
            entry.0 = entry.0.saturating_add(ms);
            entry.1 = entry.1.saturating_add(1);
        }
        let now = now_ms;
        let mut lags = self
            .recent_lags
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(samples) = by_output(&mut lags, output) {
            if samples.len() == LAG_SAMPLES {
                samples.pop_front();
            }
            samples.push_back((now, ms));
        }
    }

    /// One accepted event at `now_ms`, for the events-per-minute chart and the last event's age.
    pub fn event_accepted(&self, now_ms: i64) {
        self.last_event_ms.store(now_ms, Ordering::Relaxed);
        let minute = now_ms.div_euclid(60_000);
        let mut minutes = self
            .per_minute
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match minutes.back_mut() {
            Some((m, n)) if *m == minute => *n += 1,
            _ => {
                minutes.push_back((minute, 1));
                while minutes.len() > MINUTES {
                    minutes.pop_front();
                }
            }
        }
    }

    /// Accepted events in each of the last [`MINUTES`] minutes up to `now_ms`, oldest first.
    pub fn events_per_minute(&self, now_ms: i64) -> Vec<u64> {
        let current = now_ms.div_euclid(60_000);
        let minutes = self
            .per_minute
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (0..MINUTES)
            .rev()
            .map(|ago| {
                let minute = current - i64::try_from(ago).unwrap_or(0);
                minutes
                    .iter()
                    .find(|(m, _)| *m == minute)
                    .map_or(0, |(_, n)| *n)
            })
            .collect()
    }

    /// When the last event was accepted (Unix ms).
    pub fn last_event_ms(&self) -> Option<i64> {
        Some(self.last_event_ms.load(Ordering::Relaxed)).filter(|ms| *ms > 0)
    }

    /// An ingest outcome's count so far.
    pub fn requests(&self, outcome: Outcome) -> u64 {
        self.requests
            .get(outcome.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Attempts of `output` that ended as `outcome` so far.
    pub fn attempts_of(&self, output: &str, outcome: &str) -> u64 {
        self.attempts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(output)
            .and_then(|outcomes| outcomes.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `output`'s breaker is open.
    pub fn breaker_open(&self, output: &str) -> bool {
        self.breakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(output)
            .copied()
            .unwrap_or(false)
    }

    /// When this process last delivered to `output` (Unix ms).
    pub fn last_delivered_ms(&self, output: &str) -> Option<i64> {
        self.recent_lags
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(output)
            .and_then(|samples| samples.back())
            .map(|(at, _)| *at)
    }

    /// `output`'s ingest-to-delivery latency over the deliveries of the last `window_ms`.
    pub fn recent_lag(&self, output: &str, now_ms: i64, window_ms: i64) -> Lag {
        let lags = self
            .recent_lags
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut values: Vec<u64> = lags
            .get(output)
            .map(|samples| {
                samples
                    .iter()
                    .filter(|(at, _)| now_ms.saturating_sub(*at) <= window_ms)
                    .map(|(_, ms)| *ms)
                    .collect()
            })
            .unwrap_or_default();
        values.sort_unstable();
        let at = |p: usize| {
            values
                .get((values.len().saturating_sub(1)) * p / 100)
                .copied()
                .unwrap_or(0)
        };
        Lag {
            samples: values.len(),
            p50_ms: at(50),
            p99_ms: at(99),
        }
    }

    /// A wait the receiver's rate limit imposed.
    pub fn rate_limit_wait(&self) {
        self.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Breaker state of an output.
    pub fn breaker(&self, output: &str, open: bool) {
        if let Ok(mut map) = self.breakers.lock() {
            map.insert(output.to_owned(), open);
        }
    }

    /// The Prometheus text, with store counts, the disabled outputs and the leases (name,
    /// held by this replica).
    pub fn render(&self, stats: &Stats, disabled: &[String], leases: &[(String, bool)]) -> String {
        let mut out = String::new();
        self.render_ingest(&mut out);
        render_store(&mut out, stats);
        self.render_delivery(&mut out, disabled);
        let _ = writeln!(
            out,
            "# HELP kick_relay_lease_held Whether this replica runs the work a lease names (output:<name>, purge, reconciler).\n# TYPE kick_relay_lease_held gauge"
        );
        for (lease, held) in leases {
            let _ = writeln!(
                out,
                "kick_relay_lease_held{{lease=\"{lease}\"}} {}",
                u8::from(*held)
            );
        }
        let [runs_ok, runs_failed, created, failed, removed] = self
            .reconciler
            .each_ref()
            .map(|n| n.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# HELP kick_relay_reconcile_runs_total Subscription reconciler runs by result.\n# TYPE kick_relay_reconcile_runs_total counter\n\
             kick_relay_reconcile_runs_total{{result=\"ok\"}} {runs_ok}\nkick_relay_reconcile_runs_total{{result=\"error\"}} {runs_failed}\n\
             # HELP kick_relay_subscriptions_changed_total Subscriptions the reconciler changed at Kick.\n# TYPE kick_relay_subscriptions_changed_total counter\n\
             kick_relay_subscriptions_changed_total{{change=\"created\"}} {created}\nkick_relay_subscriptions_changed_total{{change=\"refused\"}} {failed}\n\
             kick_relay_subscriptions_changed_total{{change=\"removed\"}} {removed}"
        );
        out
    }

    fn render_ingest(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP kick_relay_requests_total Webhook requests by outcome.\n# TYPE kick_relay_requests_total counter"
        );
        for (outcome, counter) in Outcome::ALL.iter().zip(&self.requests) {
            let _ = writeln!(
                out,
                "kick_relay_requests_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                counter.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kick_relay_verification_failures_total Requests whose signature did not verify.\n# TYPE kick_relay_verification_failures_total counter"
        );
        let bad = self.requests(Outcome::BadSignature);
        let _ = writeln!(out, "kick_relay_verification_failures_total {bad}");
        let _ = writeln!(
            out,
            "# HELP kick_relay_timestamp_skew_ms Distance of Kick-Event-Message-Timestamp from the relay's clock.\n# TYPE kick_relay_timestamp_skew_ms summary"
        );
        let _ = writeln!(
            out,
            "kick_relay_timestamp_skew_ms_sum {}",
            self.skew_ms_sum.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "kick_relay_timestamp_skew_ms_count {}",
            self.skew_count.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP kick_relay_delivery_age_seconds Age of signed deliveries on arrival (now less Kick-Event-Message-Timestamp; 0 when ahead).\n# TYPE kick_relay_delivery_age_seconds histogram"
        );
        let mut cumulative = 0_u64;
        for (le, counter) in AGE_BUCKETS_SECS.iter().zip(&self.age_buckets) {
            cumulative = cumulative.saturating_add(counter.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "kick_relay_delivery_age_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        if let Some(older) = self.age_buckets.last() {
            cumulative = cumulative.saturating_add(older.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "kick_relay_delivery_age_seconds_bucket{{le=\"+Inf\"}} {cumulative}\nkick_relay_delivery_age_seconds_sum {}\nkick_relay_delivery_age_seconds_count {cumulative}",
            self.age_sum_secs.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP kick_relay_late_deliveries_total Signed deliveries that arrived more than {LATE_AFTER_SECS} s after their timestamp (kept when inside the window).\n# TYPE kick_relay_late_deliveries_total counter\nkick_relay_late_deliveries_total {}",
            self.late_deliveries()
        );
    }

    fn render_delivery(&self, out: &mut String, disabled: &[String]) {
        let _ = writeln!(
            out,
            "# HELP kick_relay_attempts_total Send attempts by output and outcome.\n# TYPE kick_relay_attempts_total counter"
        );
        if let Ok(map) = self.attempts.lock() {
            for (output, outcomes) in map.iter() {
                for (outcome, n) in outcomes {
                    let _ = writeln!(
                        out,
                        "kick_relay_attempts_total{{output=\"{output}\",outcome=\"{outcome}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP kick_relay_delivery_latency_ms Ingest-to-delivery latency.\n# TYPE kick_relay_delivery_latency_ms summary"
        );
        if let Ok(map) = self.latency_ms_sum.lock() {
            for (output, (sum, count)) in map.iter() {
                let _ = writeln!(
                    out,
                    "kick_relay_delivery_latency_ms_sum{{output=\"{output}\"}} {sum}"
                );
                let _ = writeln!(
                    out,
                    "kick_relay_delivery_latency_ms_count{{output=\"{output}\"}} {count}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP kick_relay_rate_limit_waits_total Waits imposed by receivers' rate limits.\n# TYPE kick_relay_rate_limit_waits_total counter\nkick_relay_rate_limit_waits_total {}",
            self.rate_limit_waits.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP kick_relay_breaker_open Whether an output's circuit breaker is open.\n# TYPE kick_relay_breaker_open gauge"
        );
        if let Ok(map) = self.breakers.lock() {
            for (output, open) in map.iter() {
                let _ = writeln!(
                    out,
                    "kick_relay_breaker_open{{output=\"{output}\"}} {}",
                    u8::from(*open)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP kick_relay_output_disabled Outputs disabled after 401/403/404/410.\n# TYPE kick_relay_output_disabled gauge"
        );
        for output in disabled {
            let _ = writeln!(out, "kick_relay_output_disabled{{output=\"{output}\"}} 1");
        }
    }
}

/// Store gauges: inbox size, outbox rows by output and status, oldest pending age.
fn render_store(out: &mut String, stats: &Stats) {
    let _ = writeln!(
        out,
        "# HELP kick_relay_inbox_rows Stored deliveries (idempotency window).\n# TYPE kick_relay_inbox_rows gauge\nkick_relay_inbox_rows {}",
        stats.inbox
    );
    let _ = writeln!(
        out,
        "# HELP kick_relay_outbox_rows Outbox rows by output and status.\n# TYPE kick_relay_outbox_rows gauge"
    );
    for (output, status, n) in &stats.by_status {
        let _ = writeln!(
            out,
            "kick_relay_outbox_rows{{output=\"{output}\",status=\"{status}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP kick_relay_oldest_pending_seconds Age of the oldest pending delivery.\n# TYPE kick_relay_oldest_pending_seconds gauge"
    );
    #[allow(clippy::cast_precision_loss)]
    let oldest = stats.oldest_pending_ms.unwrap_or(0) as f64 / 1000.0;
    let _ = writeln!(out, "kick_relay_oldest_pending_seconds {oldest}");
}

/// Adds `n` to `counter`, stopping at `u64::MAX` instead of wrapping.
fn saturating_add(counter: &AtomicU64, n: u64) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_add(n))
    });
}

/// `output`'s entry of a per-output map, created the first time: the name is copied only then
/// (these are counted on every delivery).
fn by_output<'m, V: Default>(map: &'m mut BTreeMap<String, V>, output: &str) -> Option<&'m mut V> {
    if !map.contains_key(output) {
        map.insert(output.to_owned(), V::default());
    }
    map.get_mut(output)
}
