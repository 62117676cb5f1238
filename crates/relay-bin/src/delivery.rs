//! Delivery workers: one per output, in id order, with up to `max_in_flight` requests out at
//! once (one for Discord).

use std::{
    collections::VecDeque,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use relay_sinks::{RenderedRequest, SendOutcome};
use tokio::task::JoinHandle;

use crate::{
    clock,
    relay::{Output, Relay},
    store::{Completion, Head, Status},
};

/// Failures in a row (not counting rate limits) that open the breaker.
const BREAKER_THRESHOLD: u32 = 5;
/// How long an open breaker pauses an output. Nothing is sent in that time, whatever arrives;
/// then one request alone (half-open) decides: delivered closes the breaker, a failure opens it
/// for another pause.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(30);
/// How often an idle or disabled worker looks at the store anyway.
const POLL: Duration = Duration::from_secs(1);

/// Rows read per query.
const BATCH: i64 = 64;
/// Sends whose outcomes may be queued to the writer but not yet committed; at the limit the
/// worker waits for the oldest commit. A kill resends at most these (plus the ones in flight).
/// 512 sends take ~100 ms at full speed, well above a loaded commit's latency, so the limit
/// bounds repeats without pacing delivery (64 made workers wait on busy commits).
pub const MAX_UNCOMMITTED: usize = 512;

/// Runs the worker of output `index` until shutdown.
///
/// Rows are sent in id order, up to the output's `in_flight` at once (one for Discord:
/// strictly in order), and their outcomes are settled in the same order. A final outcome is
/// queued to the store without waiting for its commit (the next send goes out at once unless
/// [`MAX_UNCOMMITTED`] outcomes are still uncommitted; completions commit in groups). An
/// outcome that asks to hold back (a retry, a receiver's rate limit, an open breaker, a
/// disabled output) stops new sends: the ones in flight are settled, then the worker waits as
/// asked, and a retried row holds back the rows behind it until it is due. When the queue is
/// empty the worker waits for its queued completions and scans from the start again, so
/// nothing left pending is ever passed over.
pub async fn run(relay: Arc<Relay>, index: usize) {
    let Some(output) = relay.outputs.get(index) else {
        return;
    };
    let mut worker = Worker {
        relay: &relay,
        output,
        name: output.sink.name().to_owned(),
        failures: 0,
        committed: Uncommitted::default(),
    };
    let mut cursor = 0_i64;
    // Sends in flight; kept across batches, settled whenever the worker holds back or idles.
    let mut window = Window::with_capacity(output.in_flight);
    while !relay.stopping.is_cancelled() {
        if output.disabled.load(Ordering::Acquire) {
            // Re-enabling (from the store, see relay::watch_output_state) rings the bell.
            pause(&relay, &output.wake, POLL).await;
            continue;
        }
        let batch = match relay.store.pending_after(&worker.name, cursor, BATCH).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(output = %worker.name, error = %format!("{err:#}"), "cannot read the outbox");
                pause(&relay, &output.wake, POLL).await;
                continue;
            }
        };
        if batch.is_empty() && !window.is_empty() {
            // Nothing new: settle what is in flight before idling or scanning again.
            let mut hold = Hold::default();
            worker.settle_all(&mut window, &mut hold).await;
            worker.hold_back(hold, &mut cursor).await;
            continue;
        }
        if batch.is_empty() {
            worker.committed.wait_all(&worker.name).await;
            if cursor == 0 {
                pause(&relay, &output.wake, POLL).await;
            }
            cursor = 0;
            continue;
        }
        let mut hold = Hold::default();
        // A batch shorter than asked for held every pending row past the cursor: once all of
        // it is sent, nothing is left to read until new rows are announced.
        let mut caught_up = batch.len() < usize::try_from(BATCH).unwrap_or(usize::MAX);
        for mut head in batch {
            if relay.stopping.is_cancelled()
                || output.disabled.load(Ordering::Acquire)
                || hold.any()
            {
                caught_up = false;
                break;
            }
            let now = clock::now_ms();
            if worker.expire_if_old(&head, now).await {
                cursor = head.id;
                continue;
            }
            if head.next_attempt_at > now {
                // Nothing behind this row goes out before it: settle what is in flight, wait
                // until it is due (or a while), and read again from here.
                worker.settle_all(&mut window, &mut hold).await;
                if !hold.any() {
                    let wait = Duration::from_millis(
                        u64::try_from(head.next_attempt_at - now).unwrap_or(0),
                    );
                    pause_uninterrupted(&relay, wait.min(POLL * 5)).await;
                }
                caught_up = false;
                break;
            }
            if window.len() >= worker.in_flight_allowed() {
                worker.settle_next(&mut window, &mut hold).await;
                if hold.any() {
                    caught_up = false;
                    break;
                }
            }
            cursor = head.id;
            let request = RenderedRequest {
                headers: std::mem::take(&mut head.headers),
                body: std::mem::take(&mut head.body),
            };
            let sink = Arc::clone(&output.sink);
            let send = tokio::spawn(async move { sink.send(&request, clock::now()).await });
            window.push_back((head, send));
        }
        if hold.any() || relay.stopping.is_cancelled() || output.disabled.load(Ordering::Acquire) {
            worker.settle_all(&mut window, &mut hold).await;
            worker.hold_back(hold, &mut cursor).await;
        } else if caught_up {
            worker.idle(&mut window, &mut cursor).await;
        }
    }
    worker.settle_all(&mut window, &mut Hold::default()).await;
    worker.committed.wait_all(&worker.name).await;
}

/// Sends in flight, oldest first: the row and its send task.
type Window = VecDeque<(Head, JoinHandle<SendOutcome>)>;

/// Why a worker stopped sending new rows of a batch.
#[derive(Default)]
struct Hold {
    /// Lowest id of a row that will be retried.
    retry_from: Option<i64>,
    /// The breaker opened.
    breaker: bool,
    /// The receiver asked for a pause before the next request.
    wait: Option<Duration>,
}

impl Hold {
    fn any(&self) -> bool {
        self.retry_from.is_some() || self.breaker || self.wait.is_some()
    }
}

/// One output's worker state.
struct Worker<'a> {
    relay: &'a Relay,
    output: &'a Output,
    name: String,
    /// Failures in a row (rate limits not counted); at [`BREAKER_THRESHOLD`] or more the
    /// breaker is open or, after its pause, half-open.
    failures: u32,
    committed: Uncommitted,
}

impl Worker<'_> {
    /// Requests that may be in flight now: one while the breaker is half-open (the probe),
    /// else the output's `max_in_flight`.
    fn in_flight_allowed(&self) -> usize {
        if self.failures >= BREAKER_THRESHOLD {
            1
        } else {
            self.output.in_flight
        }
    }

    /// Queues `head` as expired when it is older than the output's `max_age_secs`.
    async fn expire_if_old(&mut self, head: &Head, now: i64) -> bool {
        let Some(max_age) = self.output.max_age else {
            return false;
        };
        if now.saturating_sub(head.created_at)
            <= i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX)
        {
            return false;
        }
        let why = format!("older than max_age_secs ({}s)", max_age.as_secs());
        let completion = finish(head, Status::Expired, head.attempts, None, Some(why));
        self.committed
            .queue(self.relay, &self.name, completion)
            .await;
        true
    }

    /// Everything pending was sent: settles it, lets its outcomes commit, then waits for new
    /// rows to be announced (or the poll interval) and scans from the start, instead of
    /// reading an empty queue twice more per event.
    async fn idle(&mut self, window: &mut Window, cursor: &mut i64) {
        let mut hold = Hold::default();
        self.settle_all(window, &mut hold).await;
        if hold.any() {
            self.hold_back(hold, cursor).await;
            return;
        }
        self.committed.wait_all(&self.name).await;
        *cursor = 0;
        pause(self.relay, &self.output.wake, POLL).await;
    }

    /// Does what `hold` asks once nothing is in flight: a retried row becomes the next one read
    /// (after its new due time is committed), an open breaker pauses the output, a receiver's
    /// rate limit is waited out.
    async fn hold_back(&mut self, hold: Hold, cursor: &mut i64) {
        let (relay, name) = (self.relay, self.name.as_str());
        if let Some(id) = hold.retry_from {
            self.committed.wait_all(name).await;
            *cursor = (*cursor).min(id - 1);
        }
        if hold.breaker {
            tracing::warn!(output = %name, pause = ?BREAKER_COOLDOWN, failures = self.failures, "breaker open: nothing is sent to this output until the pause ends, then one request probes it");
            relay.metrics.breaker(name, true);
            // New deliveries ring the worker's bell; an open breaker does not answer it.
            pause_uninterrupted(relay, BREAKER_COOLDOWN).await;
        }
        if let Some(wait) = hold.wait {
            relay.metrics.rate_limit_wait();
            pause_uninterrupted(relay, wait).await;
        }
    }

    /// Settles every send in flight, in order.
    async fn settle_all(&mut self, window: &mut Window, hold: &mut Hold) {
        while !window.is_empty() {
            self.settle_next(window, hold).await;
        }
    }

    /// Waits for the oldest send in flight, records its outcome and notes in `hold` whether
    /// it asks to hold back.
    async fn settle_next(&mut self, window: &mut Window, hold: &mut Hold) {
        let Some((head, send)) = window.pop_front() else {
            return;
        };
        let outcome = send.await.unwrap_or_else(|err| SendOutcome::Retry {
            status: None,
            after: None,
            rate_limited: false,
            reason: format!("send task failed: {err}"),
        });
        let (relay, output, name) = (self.relay, self.output, self.name.as_str());
        let failures_before = self.failures;
        let completion = settle(relay, output, name, &head, &outcome, &mut self.failures).await;
        if completion.status != Status::Delivered {
            tracing::warn!(output = %name, message_id = %head.message_id, status = completion.status.as_str(), error = completion.last_error.as_deref().unwrap_or(""), "delivery attempt did not succeed");
        }
        if completion.status == Status::Pending {
            hold.retry_from = Some(hold.retry_from.map_or(head.id, |id| id.min(head.id)));
        }
        self.committed.queue(relay, name, completion).await;
        // A failure that reaches the threshold opens the breaker, and so does a failed probe
        // while it is half-open (the count stays at or above the threshold until a delivery).
        if self.failures > failures_before && self.failures >= BREAKER_THRESHOLD {
            hold.breaker = true;
        }
        if let SendOutcome::Delivered {
            wait: Some(wait), ..
        } = outcome
        {
            hold.wait = Some(hold.wait.map_or(wait, |w| w.max(wait)));
        }
    }
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
