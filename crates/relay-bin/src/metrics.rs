//! Counters for `/metrics` (Prometheus text format), kept with atomics.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::store::Stats;

/// Ingest outcomes counted by `kick_relay_requests_total{outcome}`.
pub const OUTCOMES: [&str; 10] = [
    "accepted",
    "duplicate",
    "unparsed",
    "bad_header",
    "bad_signature",
    "stale",
    "too_large",
    "store_unavailable",
    "not_found",
    "busy",
];

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; OUTCOMES.len()],
    skew_ms_sum: AtomicU64,
    skew_count: AtomicU64,
    attempts: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency_ms_sum: Mutex<BTreeMap<String, (u64, u64)>>,
    rate_limit_waits: AtomicU64,
    breakers: Mutex<BTreeMap<String, bool>>,
}

impl Metrics {
    /// Counts one ingest outcome.
    pub fn request(&self, outcome: &str) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome)
            && let Some(counter) = self.requests.get(i)
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How far a delivery's timestamp was from our clock.
    pub fn skew(&self, ms: u64) {
        self.skew_ms_sum.fetch_add(ms, Ordering::Relaxed);
        self.skew_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one send attempt.
    pub fn attempt(&self, output: &str, outcome: &'static str) {
        if let Ok(mut map) = self.attempts.lock() {
            *map.entry((output.to_owned(), outcome)).or_default() += 1;
        }
    }

    /// Ingest-to-delivery latency of one delivered event.
    pub fn delivered_after(&self, output: &str, ms: u64) {
        if let Ok(mut map) = self.latency_ms_sum.lock() {
            let entry = map.entry(output.to_owned()).or_default();
            entry.0 += ms;
            entry.1 += 1;
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

    /// The Prometheus text, with store counts.
    pub fn render(&self, stats: &Stats, disabled: &[String]) -> String {
        let mut out = String::new();
        self.render_ingest(&mut out);
        render_store(&mut out, stats);
        self.render_delivery(&mut out, disabled);
        out
    }

    fn render_ingest(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP kick_relay_requests_total Webhook requests by outcome.\n# TYPE kick_relay_requests_total counter"
        );
        for (outcome, counter) in OUTCOMES.iter().zip(&self.requests) {
            let _ = writeln!(
                out,
                "kick_relay_requests_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kick_relay_verification_failures_total Requests whose signature did not verify.\n# TYPE kick_relay_verification_failures_total counter"
        );
        let bad = OUTCOMES
            .iter()
            .position(|o| *o == "bad_signature")
            .and_then(|i| self.requests.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed));
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
    }

    fn render_delivery(&self, out: &mut String, disabled: &[String]) {
        let _ = writeln!(
            out,
            "# HELP kick_relay_attempts_total Send attempts by output and outcome.\n# TYPE kick_relay_attempts_total counter"
        );
        if let Ok(map) = self.attempts.lock() {
            for ((output, outcome), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "kick_relay_attempts_total{{output=\"{output}\",outcome=\"{outcome}\"}} {n}"
                );
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
