//! What one send's outcome becomes: the row's new state, and its side effects (metrics, the
//! breaker's count, disabling the output).

use std::{sync::atomic::Ordering, time::Duration};

use relay_sinks::SendOutcome;

use crate::{
    relay::{Output, Relay},
    store::{Completion, Status},
};

use super::ready::Ready;

/// What to record for one send's outcome (and its side effects: metrics, disabling).
pub(super) async fn settle(
    relay: &Relay,
    output: &Output,
    name: &str,
    head: &Ready,
    outcome: &SendOutcome,
    failures: &mut u32,
) -> Completion {
    let now = relay.clock.now_ms();
    let attempts = head.attempts + 1;
    match outcome {
        SendOutcome::Delivered { status, .. } => {
            *failures = 0;
            relay.metrics.breaker(name, false);
            relay.metrics.attempt(name, "delivered");
            relay.metrics.delivered_after(
                name,
                u64::try_from(now.saturating_sub(head.created_at)).unwrap_or(0),
                now,
            );
            finish(head, Status::Delivered, attempts, Some(*status), None, now)
        }
        SendOutcome::Retry {
            status,
            after,
            rate_limited: true,
            reason,
        } => {
            relay.metrics.attempt(name, "rate_limited");
            relay.metrics.rate_limit_wait();
            // Not a failure: the receiver asked us to wait. It does not use up the schedule.
            retry_at(
                head,
                head.attempts,
                now,
                after.unwrap_or(Duration::from_secs(1)),
                *status,
                reason,
            )
        }
        SendOutcome::Retry {
            status,
            after,
            reason,
            ..
        } => {
            *failures += 1;
            relay.metrics.attempt(name, "retry");
            match output
                .schedule
                .get(usize::try_from(attempts - 1).unwrap_or(usize::MAX))
            {
                Some(step) => retry_at(
                    head,
                    attempts,
                    now,
                    jitter(*step).max(after.unwrap_or_default()),
                    *status,
                    reason,
                ),
                None => finish(
                    head,
                    Status::Dead,
                    attempts,
                    *status,
                    Some(format!("retries exhausted; last: {reason}")),
                    now,
                ),
            }
        }
        SendOutcome::Permanent { status, reason } => {
            relay.metrics.attempt(name, "dead");
            finish(
                head,
                Status::Dead,
                attempts,
                Some(*status),
                Some(reason.clone()),
                now,
            )
        }
        SendOutcome::Disable { status, reason } => {
            disable(relay, output, name, head, attempts, *status, reason, now).await
        }
        // An outcome this relay does not know (a newer relay-sinks): keep the row and try
        // again later rather than guess it was delivered.
        other => {
            *failures += 1;
            relay.metrics.attempt(name, "retry");
            retry_at(
                head,
                attempts,
                now,
                jitter(Duration::from_secs(30)),
                other.status(),
                &format!("unrecognised send outcome: {other:?}"),
            )
        }
    }
}

/// The receiver refused the output itself (401/403/404/410): the output is disabled (in
/// memory at once, and in the store) and the row kept as skipped.
#[allow(clippy::too_many_arguments)]
async fn disable(
    relay: &Relay,
    output: &Output,
    name: &str,
    head: &Ready,
    attempts: i64,
    status: u16,
    reason: &str,
    now: i64,
) -> Completion {
    relay.metrics.attempt(name, "disabled");
    tracing::error!(output = %name, status, reason = %reason, "output disabled; its deliveries are skipped until `kick-relay outputs enable {name}`");
    output.disabled.store(true, Ordering::Release);
    if let Err(err) = relay.store.disable_output(name, reason, now).await {
        tracing::error!(output = %name, error = %format!("{err:#}"), "could not record the disabled output");
    }
    finish(
        head,
        Status::Skipped,
        attempts,
        Some(status),
        Some(format!("output disabled: {reason}")),
        now,
    )
}

pub(super) fn finish(
    head: &Ready,
    status: Status,
    attempts: i64,
    last_status: Option<u16>,
    last_error: Option<String>,
    now: i64,
) -> Completion {
    Completion {
        id: head.id,
        status,
        attempts,
        next_attempt_at: head.next_attempt_at,
        last_status: last_status.map(i64::from),
        last_error,
        finished_at: Some(now),
        at: now,
    }
}

pub(super) fn retry_at(
    head: &Ready,
    attempts: i64,
    now: i64,
    wait: Duration,
    status: Option<u16>,
    reason: &str,
) -> Completion {
    Completion {
        id: head.id,
        status: Status::Pending,
        attempts,
        next_attempt_at: now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
        last_status: status.map(i64::from),
        last_error: Some(reason.to_owned()),
        finished_at: None,
        at: now,
    }
}

/// ±20 % around `step`.
pub(super) fn jitter(step: Duration) -> Duration {
    let mut byte = [0_u8; 2];
    let unit = if getrandom_fill(&mut byte) {
        f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX)
    } else {
        0.5
    };
    step.mul_f64(0.8 + 0.4 * unit)
}

fn getrandom_fill(buffer: &mut [u8]) -> bool {
    use rsa::rand_core::RngCore;
    rsa::rand_core::OsRng.try_fill_bytes(buffer).is_ok()
}
