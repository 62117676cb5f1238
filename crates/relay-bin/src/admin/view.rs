//! What the admin page and `/api/status` show, gathered once for both.

use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::{
    metrics::{Lag, Outcome},
    relay::Relay,
};

/// How far back the latency figures look.
const LAG_WINDOW_MS: i64 = 5 * 60_000;

/// The whole status.
#[derive(Debug, Serialize)]
pub(crate) struct Status {
    /// Why the database is no longer the one served (deleted, replaced, dropped), if so.
    pub(crate) database_lost: Option<String>,
    pub(crate) ingest: Ingest,
    pub(crate) outputs: Vec<OutputStatus>,
}

/// What Kick sent.
#[derive(Debug, Serialize)]
pub(crate) struct Ingest {
    /// Accepted events in each of the last 60 minutes, oldest first (this process's: fewer
    /// minutes hold counts when it started less than an hour ago).
    pub(crate) events_per_minute: Vec<u64>,
    /// Seconds since this process started: the counts here are its own, from then on.
    pub(crate) counting_for_secs: i64,
    /// Seconds since the last accepted event.
    pub(crate) last_event_age_secs: Option<i64>,
    pub(crate) accepted: u64,
    pub(crate) duplicates: u64,
    pub(crate) verification_failures: u64,
    /// Signed deliveries Kick sent more than ten minutes after their timestamp.
    pub(crate) late: u64,
    /// Deliveries refused for a timestamp outside the window.
    pub(crate) stale: u64,
}

/// One output.
#[derive(Debug, Serialize)]
pub(crate) struct OutputStatus {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// `active`, `paused` (breaker open) or `disabled`.
    pub(crate) state: &'static str,
    pub(crate) disabled_reason: Option<String>,
    pub(crate) pending: i64,
    pub(crate) oldest_pending_secs: Option<i64>,
    /// Ingest-to-delivery latency over the last five minutes.
    pub(crate) lag: Lag,
    pub(crate) last_error: Option<String>,
    /// When the last error happened (Unix ms).
    pub(crate) last_error_at: Option<i64>,
    /// Whether a delivery succeeded after the last error.
    pub(crate) recovered: bool,
    /// Times the receiver's rate limit made it wait.
    pub(crate) rate_limited: u64,
}

/// Reads the status now.
pub(crate) async fn status(relay: &Relay) -> anyhow::Result<Status> {
    let now = relay.clock.now_ms();
    let metrics = &relay.metrics;
    let mut outputs = Vec::with_capacity(relay.outputs.len());
    for output in &relay.outputs {
        let name = output.sink.name();
        let overview = relay.store.overview(name, now).await?;
        let disabled = output.disabled.load(Ordering::Acquire);
        let disabled_reason = if disabled {
            relay.store.output_disabled(name).await?
        } else {
            None
        };
        let state = if disabled {
            "disabled"
        } else if metrics.breaker_open(name) {
            "paused"
        } else {
            "active"
        };
        let (last_error, last_error_at) = overview
            .last_error
            .map_or((None, None), |(e, at)| (Some(e), Some(at)));
        outputs.push(OutputStatus {
            name: name.to_owned(),
            kind: output.sink.kind().as_str(),
            state,
            disabled_reason,
            pending: overview.pending,
            oldest_pending_secs: overview.oldest_pending_ms.map(|ms| ms / 1000),
            lag: metrics.recent_lag(name, now, LAG_WINDOW_MS),
            recovered: last_error_at.is_some_and(|at| {
                metrics
                    .last_delivered_ms(name)
                    .is_some_and(|delivered| delivered >= at)
            }),
            last_error,
            last_error_at,
            rate_limited: metrics.attempts_of(name, "rate_limited"),
        });
    }
    Ok(Status {
        database_lost: relay.store.lost(),
        ingest: Ingest {
            events_per_minute: metrics.events_per_minute(now),
            counting_for_secs: now.saturating_sub(relay.started_ms) / 1000,
            last_event_age_secs: metrics
                .last_event_ms()
                .map(|at| now.saturating_sub(at) / 1000),
            accepted: metrics.requests(Outcome::Accepted) + metrics.requests(Outcome::Unparsed),
            duplicates: metrics.requests(Outcome::Duplicate),
            verification_failures: metrics.requests(Outcome::BadSignature),
            late: metrics.late_deliveries(),
            stale: metrics.requests(Outcome::Stale),
        },
        outputs,
    })
}
