//! Delivery workers: one per output, strictly in order, one request in flight.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use relay_sinks::{RenderedRequest, SendOutcome};

use crate::{
    clock,
    relay::{Output, Relay},
    store::{Completion, Head, Status},
};

/// Failures in a row (not counting rate limits) that open the breaker.
const BREAKER_THRESHOLD: u32 = 5;
/// How long an open breaker pauses an output.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(30);
/// How often an idle or disabled worker looks at the store anyway.
const POLL: Duration = Duration::from_secs(1);

/// Rows read per query.
const BATCH: i64 = 64;
/// Sends whose outcomes may be queued to the writer but not yet committed; at the limit the
/// worker waits for the oldest commit. A kill resends at most these (plus the one in flight).
/// 512 sends take ~100 ms at full speed, well above a loaded commit's latency, so the limit
/// bounds repeats without pacing delivery (64 made workers wait on busy commits).
const MAX_UNCOMMITTED: usize = 512;

/// Runs the worker of output `index` until shutdown.
///
/// Rows are sent in id order, one request in flight. A final outcome is queued to the store
/// without waiting for its commit (the next send goes out at once unless [`MAX_UNCOMMITTED`]
/// outcomes are still uncommitted; completions commit in order, in groups); a retry waits for
/// its commit, and the row holds back the ones behind it until it is due. When the queue is
/// empty the worker waits for its queued completions and scans from the start again, so nothing
/// left pending is ever passed over.
pub async fn run(relay: Arc<Relay>, index: usize) {
    let Some(output) = relay.outputs.get(index) else {
        return;
    };
    let name = output.sink.name().to_owned();
    let mut failures = 0_u32;
    let mut cursor = 0_i64;
    let mut committed = Uncommitted::default();
    while !relay.stopping.is_cancelled() {
        if output.disabled.load(Ordering::Acquire) && !reenabled(&relay, output, &name).await {
            pause(&relay, &output.wake, Duration::from_secs(5)).await;
            continue;
        }
        let batch = match relay.store.pending_after(&name, cursor, BATCH).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(output = %name, error = %format!("{err:#}"), "cannot read the outbox");
                pause(&relay, &output.wake, POLL).await;
                continue;
            }
        };
        if batch.is_empty() {
            committed.wait_all(&name).await;
            if cursor == 0 {
                pause(&relay, &output.wake, POLL).await;
            }
            cursor = 0;
            continue;
        }
        for head in batch {
            if relay.stopping.is_cancelled() || output.disabled.load(Ordering::Acquire) {
                break;
            }
            let now = clock::now_ms();
            if let Some(max_age) = output.max_age
                && now.saturating_sub(head.created_at)
                    > i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX)
            {
                let why = format!("older than max_age_secs ({}s)", max_age.as_secs());
                committed
                    .queue(
                        &relay,
                        &name,
                        finish(&head, Status::Expired, head.attempts, None, Some(why)),
                    )
                    .await;
                cursor = head.id;
                continue;
            }
            if head.next_attempt_at > now {
                // Strict order: nothing behind this row goes out before it.
                let wait =
                    Duration::from_millis(u64::try_from(head.next_attempt_at - now).unwrap_or(0));
                pause_uninterrupted(&relay, wait.min(POLL * 5)).await;
                break;
            }
            let request = RenderedRequest {
                headers: head.headers.clone(),
                body: head.body.clone(),
            };
            let outcome = output.sink.send(&request, clock::now()).await;
            let completion = settle(&relay, output, &name, &head, &outcome, &mut failures).await;
            let retry = completion.status == Status::Pending;
            if completion.status != Status::Delivered {
                tracing::warn!(output = %name, message_id = %head.message_id, status = completion.status.as_str(), error = completion.last_error.as_deref().unwrap_or(""), "delivery attempt did not succeed");
            }
            committed.queue(&relay, &name, completion).await;
            if retry {
                // The next read must see the new due time.
                committed.wait_all(&name).await;
            } else {
                cursor = head.id;
            }
            if failures >= BREAKER_THRESHOLD {
                tracing::warn!(output = %name, failures, "breaker open: pausing this output");
                relay.metrics.breaker(&name, true);
                failures = 0;
                pause(&relay, &output.wake, BREAKER_COOLDOWN).await;
            }
            if let SendOutcome::Delivered {
                wait: Some(wait), ..
            } = outcome
            {
                relay.metrics.rate_limit_wait();
                pause_uninterrupted(&relay, wait).await;
            }
            if retry {
                break;
            }
        }
    }
    committed.wait_all(&name).await;
}

/// The commit notice of one queued completion.
type Committed = tokio::sync::oneshot::Receiver<anyhow::Result<()>>;

/// Commit notices of queued completions, oldest first (the writer commits them in this order).
#[derive(Default)]
struct Uncommitted(std::collections::VecDeque<Committed>);

impl Uncommitted {
    /// Queues a completion without waiting for its commit, unless [`MAX_UNCOMMITTED`] are
    /// already waiting: then waits for the oldest first. A writer that is gone is logged.
    async fn queue(&mut self, relay: &Relay, name: &str, completion: Completion) {
        match relay.store.complete_queued(completion).await {
            Ok(receiver) => self.0.push_back(receiver),
            Err(err) => {
                tracing::error!(output = %name, error = %format!("{err:#}"), "could not record a delivery attempt; it will be sent again");
            }
        }
        while self.0.len() > MAX_UNCOMMITTED {
            if let Some(oldest) = self.0.pop_front() {
                settled(oldest, name).await;
            }
        }
    }

    /// Waits until every queued completion is committed (or failed, which is logged: those
    /// rows stay pending and are sent again).
    async fn wait_all(&mut self, name: &str) {
        while let Some(receiver) = self.0.pop_front() {
            settled(receiver, name).await;
        }
    }
}

async fn settled(receiver: Committed, name: &str) {
    if let Ok(Err(err)) = receiver.await {
        tracing::error!(output = %name, error = %format!("{err:#}"), "delivery outcomes were not recorded; those deliveries will be sent again");
    }
}

/// For a disabled output: whether the operator has enabled it again.
async fn reenabled(relay: &Relay, output: &Output, name: &str) -> bool {
    if let Ok(None) = relay.store.output_disabled(name).await {
        tracing::info!(output = %name, "output re-enabled");
        output.disabled.store(false, Ordering::Release);
        true
    } else {
        false
    }
}

/// What to record for one send's outcome (and its side effects: metrics, disabling).
async fn settle(
    relay: &Relay,
    output: &Output,
    name: &str,
    head: &Head,
    outcome: &SendOutcome,
    failures: &mut u32,
) -> Completion {
    let now = clock::now_ms();
    let attempts = head.attempts + 1;
    match outcome {
        SendOutcome::Delivered { status, .. } => {
            *failures = 0;
            relay.metrics.breaker(name, false);
            relay.metrics.attempt(name, "delivered");
            relay.metrics.delivered_after(
                name,
                u64::try_from(now.saturating_sub(head.created_at)).unwrap_or(0),
            );
            finish(head, Status::Delivered, attempts, Some(*status), None)
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
            )
        }
        SendOutcome::Disable { status, reason } => {
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
                Some(*status),
                Some(format!("output disabled: {reason}")),
            )
        }
    }
}

fn finish(
    head: &Head,
    status: Status,
    attempts: i64,
    last_status: Option<u16>,
    last_error: Option<String>,
) -> Completion {
    Completion {
        id: head.id,
        status,
        attempts,
        next_attempt_at: head.next_attempt_at,
        last_status: last_status.map(i64::from),
        last_error,
        finished_at: Some(clock::now_ms()),
    }
}

fn retry_at(
    head: &Head,
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
    }
}

/// ±20 % around `step`.
fn jitter(step: Duration) -> Duration {
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

/// Waits for a wake-up, `limit`, or shutdown.
async fn pause(relay: &Relay, wake: &tokio::sync::Notify, limit: Duration) {
    tokio::select! {
        () = wake.notified() => {}
        () = tokio::time::sleep(limit) => {}
        () = relay.stopping.cancelled() => {}
    }
}

/// Waits `limit` (a receiver's rate limit) unless shutting down.
async fn pause_uninterrupted(relay: &Relay, limit: Duration) {
    tokio::select! {
        () = tokio::time::sleep(limit) => {}
        () = relay.stopping.cancelled() => {}
    }
}
