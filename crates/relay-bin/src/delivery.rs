//! Delivery workers: one per output, in id order, with up to `max_in_flight` requests out at
//! once (one for Discord).

use std::{collections::VecDeque, sync::Arc, time::Duration};

use relay_sinks::SendOutcome;
use tokio::task::JoinHandle;

use crate::{
    relay::{Output, Relay},
    store::{Completion, Feed, Status, Taken},
};

mod chat;
mod outcome;
mod position;
mod prepare;
mod ready;
mod retained;
mod uncommitted;

use self::{
    chat::alone,
    outcome::{finish, settle},
    position::{Event, Position, step},
    ready::Ready,
    retained::Retained,
    uncommitted::Uncommitted,
};

/// Failures in a row (not counting rate limits) that open the breaker.
const BREAKER_THRESHOLD: u32 = 5;
/// How long an open breaker pauses an output. Nothing is sent in that time, whatever arrives;
/// then one request alone (half-open) decides: delivered closes the breaker, a failure opens it
/// for another pause.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(30);
/// How often an idle or disabled worker looks at the store anyway (one taking its rows from
/// its feed looks whether rows were requeued).
const POLL: Duration = Duration::from_secs(1);
/// How often a worker taking its rows from its feed reads the store from the queue's head
/// anyway: the feed is a shortcut, the store the record.
const FULL_READ: Duration = Duration::from_mins(1);

/// Rows read per query, or taken from the feed at once.
const BATCH: usize = 64;
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
    let mut worker = Worker::new(&relay, output);
    // Where the next rows are read: every change goes through `position::step`.
    let mut position = Position::START;
    // Sends in flight; kept across batches, settled whenever the worker holds back or idles.
    let mut window = Window::with_capacity(output.in_flight);
    // New rows straight from the store's writer (SQLite), while the position is in step.
    let mut feed = FeedState::new(relay.store.feed(&worker.name));
    while !relay.stopping.is_cancelled() {
        if output.standing_by() || relay.store.lost().is_some() {
            // Re-enabling (from the store, see running::watch_output_state) and taking the
            // lease ring the bell. A worker taking over resumes from the queue's head. A
            // database that is gone (deleted, replaced, dropped) could not record an outcome:
            // a send now would only be repeated once it is restored.
            position = step(position, Event::StoodBy);
            pause(&relay, &output.wake, POLL).await;
            continue;
        }
        let Some(Batch {
            rows: batch,
            read,
            last_read,
            from_store,
        }) = worker
            .next_batch(&mut feed, &mut window, &mut position)
            .await
        else {
            continue;
        };
        if batch.is_empty() {
            worker
                .nothing_to_send(read, last_read, &feed, &mut window, &mut position)
                .await;
            continue;
        }
        let mut hold = Hold::default();
        // A batch shorter than asked for held every pending row past the position: once all of
        // it is sent, nothing is left to read until new rows are announced.
        let mut caught_up = read < BATCH;
        // Rows of the batch were left unsent (the worker holds back or reads again).
        let mut left = false;
        let mut rows: VecDeque<Ready> = batch.into();
        while let Some(head) = rows.pop_front() {
            if relay.stopping.is_cancelled() || output.standing_by() || hold.any() {
                left = true;
                break;
            }
            let now = relay.clock.now_ms();
            if worker.expire_if_old(&head, now).await {
                position = step(position, Event::Passed(head.id));
                continue;
            }
            if let Some(last) = worker.skip_stale_chat(&head, &mut rows, now).await {
                position = step(position, Event::Passed(last));
                continue;
            }
            if head.next_attempt_at > now {
                // Nothing behind this row goes out before it: wait until it is due (or a
                // while), and read again from here.
                let due_in = u64::try_from(head.next_attempt_at - now).unwrap_or(0);
                worker
                    .wait_then_reread(&mut window, &mut hold, Duration::from_millis(due_in))
                    .await;
                left = true;
                break;
            }
            if window.len() >= worker.in_flight_allowed() {
                worker.settle_next(&mut window, &mut hold).await;
                if hold.any() {
                    left = true;
                    break;
                }
            }
            if let Some(wait) = output.sink.ready_in() {
                // A paced output (Discord) waits until its limits let the next request
                // through; chat that arrives meanwhile goes out with it (read again).
                worker.wait_then_reread(&mut window, &mut hold, wait).await;
                left = true;
                break;
            }
            let (request, group) = if head.batch_line().is_some() {
                worker.combine(head, &mut rows, now)
            } else {
                alone(head)
            };
            if let Some(last) = group.last() {
                position = step(position, Event::Passed(last.id));
            }
            let sink = Arc::clone(&output.sink);
            let sent_at = relay.clock.now();
            let send = tokio::spawn(async move { sink.send(&request, sent_at).await });
            window.push_back((group, send));
        }
        caught_up &= !left;
        if hold.any() || relay.stopping.is_cancelled() || output.standing_by() || left {
            // The rows left are still pending in the store, not in the feed.
            position = step(position, Event::LeftUnsent);
        }
        if hold.any() || relay.stopping.is_cancelled() || output.standing_by() {
            worker.settle_all(&mut window, &mut hold).await;
            worker.hold_back(hold, &mut position).await;
        } else if caught_up && from_store && feed.intact() {
            // Everything pending was read and sent, and every row committed since that read
            // began is in the feed: take the next ones from there.
            position = step(position, Event::CaughtUp);
        } else if caught_up && !position.in_step() {
            worker.idle(&mut window, &mut position).await;
        }
    }
    worker.settle_all(&mut window, &mut Hold::default()).await;
    worker.committed.wait_all(&worker.name).await;
}

/// Rows to send next.
struct Batch {
    /// The rows, rendered (those that could not be are recorded and left out).
    rows: Vec<Ready>,
    /// Rows read or taken (before rendering).
    read: usize,
    /// The last id read or taken.
    last_read: Option<i64>,
    /// Read from the store (not taken from the feed).
    from_store: bool,
}

/// A worker's use of its output's feed ([`crate::store::Feed`]): rows come from the feed
/// while the position is in step (the last read of the store found everything pending and
/// the feed lost nothing since that read began), and from the store otherwise. Rows an operator's command
/// of another process makes pending again reach no feed: every [`POLL`] the worker looks at
/// the store's count of requeues and reads the store from the queue's head when it changed
/// (and every [`FULL_READ`] anyway).
struct FeedState {
    feed: Option<Arc<Feed>>,
    /// When the store was last read from the queue's head.
    scanned_at: tokio::time::Instant,
    /// The store's count of requeues as read before that read began (`None`: unknown).
    requeues: Option<i64>,
    /// When the count was last looked at.
    checked_at: tokio::time::Instant,
}

impl FeedState {
    fn new(feed: Option<Arc<Feed>>) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            feed,
            scanned_at: now,
            requeues: None,
            checked_at: now,
        }
    }

    /// The next rows past `position`, while it is in step; `None` when the store is to be
    /// read.
    fn take(&self, position: Position) -> Option<Taken> {
        let feed = self.feed.as_ref().filter(|_| position.in_step())?;
        if self.scanned_at.elapsed() >= FULL_READ {
            return Some(Taken::Rescan);
        }
        Some(feed.take(position.after, BATCH))
    }

    /// Whether rows may have been requeued since the last read from the queue's head (looked
    /// at every [`POLL`] while in step with the feed; a failed look says yes).
    async fn requeued(&mut self, store: &crate::store::Store, position: Position) -> bool {
        if !position.in_step() || self.checked_at.elapsed() < POLL {
            return false;
        }
        self.checked_at = tokio::time::Instant::now();
        match store.requeues().await {
            Ok(count) => Some(count) != self.requeues,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "cannot read the store's count of requeues; reading the queue from its head");
                true
            }
        }
    }

    /// How long until the next look at the count of requeues.
    fn until_check(&self) -> Duration {
        POLL.saturating_sub(self.checked_at.elapsed())
    }

    /// The store is about to be read from the queue's head; `requeues` is its count of
    /// requeues, read just before.
    fn scanned(&mut self, requeues: Option<i64>) {
        let now = tokio::time::Instant::now();
        self.scanned_at = now;
        self.checked_at = now;
        self.requeues = requeues;
    }

    /// A read of the store begins.
    fn mark(&self) {
        if let Some(feed) = &self.feed {
            feed.mark();
        }
    }

    /// Whether every row committed since the last [`FeedState::mark`] is in the feed.
    fn intact(&self) -> bool {
        self.feed.as_ref().is_some_and(|feed| feed.intact())
    }
}

/// Sends in flight, oldest first: the rows one request carries (one, or several chat rows
/// combined into one Discord message) and its send task.
type Window = VecDeque<(Vec<Ready>, JoinHandle<SendOutcome>)>;

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
    /// Chat rows skipped for lag whose "skipped" line has not been sent yet.
    folded: usize,
    /// Requests of rows to retry, sent again as rendered.
    retained: Retained,
}

impl<'a> Worker<'a> {
    fn new(relay: &'a Relay, output: &'a Output) -> Self {
        Self {
            relay,
            output,
            name: output.sink.name().to_owned(),
            failures: 0,
            committed: Uncommitted::default(),
            folded: 0,
            retained: Retained::default(),
        }
    }

    /// Requests that may be in flight now: one while the breaker is half-open (the probe),
    /// else the output's `max_in_flight`.
    fn in_flight_allowed(&self) -> usize {
        if self.failures >= BREAKER_THRESHOLD {
            1
        } else {
            self.output.in_flight
        }
    }

    /// Queues `head` as expired when it is older than the output's `max_age_secs`, counted from
    /// when Kick sent it (a delivery Kick sent late is as old as its timestamp says), or when
    /// it is chat for an output that keeps chat current (Discord's `max_lag_secs`) and it
    /// arrived from Kick already further behind than that.
    async fn expire_if_old(&mut self, head: &Ready, now: i64) -> bool {
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let why = match (self.output.max_age, self.output.max_lag) {
            (Some(max_age), _) if now.saturating_sub(head.sent_at) > millis(max_age) => format!(
                "older than max_age_secs ({}s), counted from Kick's timestamp",
                max_age.as_secs()
            ),
            (_, Some(max_lag))
                if head.batch_line().is_some()
                    && head.created_at.saturating_sub(head.sent_at) > millis(max_lag) =>
            {
                format!(
                    "chat Kick delivered {}s late, more than max_lag_secs ({}s): not posted; replayable",
                    head.created_at.saturating_sub(head.sent_at) / 1000,
                    max_lag.as_secs()
                )
            }
            _ => return false,
        };
        let completion = finish(head, Status::Expired, head.attempts, None, Some(why), now);
        self.committed
            .queue(self.relay, &self.name, completion)
            .await;
        true
    }

    /// Everything pending was sent: settles it, lets its outcomes commit, then waits for new
    /// rows to be announced (or the poll interval) and scans from the start, instead of
    /// reading an empty queue twice more per event.
    async fn idle(&mut self, window: &mut Window, position: &mut Position) {
        if self.rescan(window, position).await {
            pause(self.relay, &self.output.wake, POLL).await;
        }
    }

    /// Settles what is in flight and lets its outcomes commit, so that the next read starts
    /// from the queue's head without finding rows already sent; `false` when an outcome asked
    /// to hold back instead (done, the position set for it).
    async fn rescan(&mut self, window: &mut Window, position: &mut Position) -> bool {
        let mut hold = Hold::default();
        self.settle_all(window, &mut hold).await;
        if hold.any() {
            self.hold_back(hold, position).await;
            return false;
        }
        self.committed.wait_all(&self.name).await;
        self.announce_skipped().await;
        *position = step(*position, Event::FromHead);
        true
    }

    /// Does what `hold` asks once nothing is in flight: a retried row becomes the next one read
    /// (after its new due time is committed), an open breaker pauses the output, a receiver's
    /// rate limit is waited out.
    async fn hold_back(&mut self, hold: Hold, position: &mut Position) {
        let (relay, name) = (self.relay, self.name.as_str());
        if hold.any() {
            *position = step(*position, Event::HeldBack);
        }
        if let Some(id) = hold.retry_from {
            self.committed.wait_all(name).await;
            *position = step(*position, Event::RetryFrom(id));
        }
        if hold.breaker {
            tracing::warn!(output = %name, pause = ?BREAKER_COOLDOWN, failures = self.failures, "breaker open: nothing is sent to this output until the pause ends, then one request probes it");
            relay.metrics.breaker(name, true);
            // New deliveries ring the worker's bell; an open breaker does not answer it. The
            // pause is on the relay's clock (a test moves it instead of waiting).
            tokio::select! {
                () = relay.clock.sleep(BREAKER_COOLDOWN) => {}
                () = relay.stopping.cancelled() => {}
            }
        }
        if let Some(wait) = hold.wait {
            relay.metrics.rate_limit_wait();
            pause_uninterrupted(relay, wait).await;
        }
    }

    /// Settles what is in flight, then (unless an outcome asks to hold back) waits `wait`, at
    /// most a few seconds, before the queue is read again.
    async fn wait_then_reread(&mut self, window: &mut Window, hold: &mut Hold, wait: Duration) {
        self.settle_all(window, hold).await;
        if !hold.any() {
            pause_uninterrupted(self.relay, wait.min(POLL * 5)).await;
        }
    }

    /// The next rows past the position: from the feed while in step with it, else from the
    /// store. `None` when there is nothing to send yet (the worker waited, held back or
    /// arranged a full read of the store) and the loop should come round again.
    async fn next_batch(
        &mut self,
        feed: &mut FeedState,
        window: &mut Window,
        position: &mut Position,
    ) -> Option<Batch> {
        if feed.requeued(&self.relay.store, *position).await {
            // Another process made rows pending again: read the store from the queue's head.
            *position = step(*position, Event::Requeued);
            self.rescan(window, position).await;
            return None;
        }
        match feed.take(*position) {
            Some(Taken::Rows(rows)) => {
                let (read, last_read) = (rows.len(), rows.last().map(|h| h.id));
                return Some(Batch {
                    rows: self.prepare(rows).await,
                    read,
                    last_read,
                    from_store: false,
                });
            }
            Some(Taken::Empty) => {
                // Everything committed so far went out: settle it, then wait for new rows
                // (or the time of the next full read of the store).
                let mut hold = Hold::default();
                self.settle_all(window, &mut hold).await;
                if hold.any() {
                    self.hold_back(hold, position).await;
                } else {
                    self.announce_skipped().await;
                    pause(self.relay, &self.output.wake, feed.until_check()).await;
                }
                return None;
            }
            Some(Taken::Behind) => {
                // The worker fell behind the feed: read the store from here on.
                *position = step(*position, Event::FellBehind);
            }
            Some(Taken::Rescan) => {
                // An operator of this process requeued rows, or it is time for the periodic
                // full read: read the store from the queue's head.
                *position = step(*position, Event::Requeued);
                self.rescan(window, position).await;
                return None;
            }
            None => {}
        }
        if position.at_head() && feed.feed.is_some() {
            feed.scanned(self.relay.store.requeues().await.ok());
        }
        feed.mark();
        let Some((rows, read, last_read)) = self.read_batch(position.after).await else {
            pause(self.relay, &self.output.wake, POLL).await;
            return None;
        };
        Some(Batch {
            rows,
            read,
            last_read,
            from_store: true,
        })
    }

    /// A batch left nothing to send: every row read was recorded instead (move past them), or
    /// nothing was pending (settle what is in flight, take the feed from here, or idle).
    async fn nothing_to_send(
        &mut self,
        read: usize,
        last_read: Option<i64>,
        feed: &FeedState,
        window: &mut Window,
        position: &mut Position,
    ) {
        if read > 0 {
            if let Some(last) = last_read {
                *position = step(*position, Event::Passed(last));
            }
            return;
        }
        if !window.is_empty() {
            // Nothing new: settle what is in flight before idling or scanning again.
            let mut hold = Hold::default();
            self.settle_all(window, &mut hold).await;
            self.hold_back(hold, position).await;
            return;
        }
        if feed.intact() {
            // Nothing pending past the position, and every row committed since the read
            // began is in the feed.
            *position = step(*position, Event::CaughtUp);
            return;
        }
        self.committed.wait_all(&self.name).await;
        self.announce_skipped().await;
        if position.at_head() {
            pause(self.relay, &self.output.wake, POLL).await;
        }
        *position = step(*position, Event::FromHead);
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
        let Some((group, send)) = window.pop_front() else {
            return;
        };
        let Some(head) = group.first() else {
            return;
        };
        let outcome = send.await.unwrap_or_else(|err| SendOutcome::Retry {
            status: None,
            after: None,
            rate_limited: false,
            reason: format!("send task failed: {err}"),
        });
        let (relay, name) = (self.relay, self.name.as_str());
        let failures_before = self.failures;
        let completion = settle(relay, self.output, name, head, &outcome, &mut self.failures).await;
        if completion.status != Status::Delivered {
            tracing::warn!(output = %name, message_id = %head.message_id, rows = group.len(), status = completion.status.as_str(), error = completion.last_error.as_deref().unwrap_or(""), "delivery attempt did not succeed");
        }
        if completion.status == Status::Pending {
            hold.retry_from = Some(hold.retry_from.map_or(head.id, |id| id.min(head.id)));
            for row in &group {
                self.retained.keep(row);
            }
        }
        // The other rows of a combined message share its fate: delivered, retried at the same
        // time, dead or skipped together.
        let others: Vec<Completion> = group
            .iter()
            .skip(1)
            .map(|row| {
                if completion.status == Status::Delivered {
                    relay.metrics.delivered_after(
                        name,
                        u64::try_from(relay.clock.now_ms().saturating_sub(row.created_at))
                            .unwrap_or(0),
                        relay.clock.now_ms(),
                    );
                }
                Completion {
                    id: row.id,
                    attempts: row.attempts + (completion.attempts - head.attempts),
                    ..completion.clone()
                }
            })
            .collect();
        self.committed.queue(relay, name, completion).await;
        for other in others {
            self.committed.queue(relay, name, other).await;
        }
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
