//! The dispatcher: registration, dispatch with isolation and time limits, shutdown.

use std::{
    any::Any,
    fmt,
    future::Future,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use kick_models::Delivery;
use tokio::{task::JoinError, time::Instant};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    DispatchReport, Envelope, Event, ListenerId, ListenerOptions, ListenerOutcome, ListenerOutput,
    ListenerResult,
    listener::{Call, Entry},
};

/// Default time limit of one listener call.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The dispatcher no longer accepts events.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum DispatchError {
    /// [`Dispatcher::shutdown`] has begun.
    ShutDown,
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the dispatcher is shutting down and accepts no more events")
    }
}

impl std::error::Error for DispatchError {}

/// How [`Dispatcher::shutdown`] went.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ShutdownReport {
    /// Every running listener finished before the deadline.
    pub drained: bool,
    /// Listener calls stopped at the deadline (each also reported as
    /// [`ListenerResult::Cancelled`] to its dispatch).
    pub cancelled: usize,
}

/// A typed in-process event bus for Kick deliveries.
///
/// Listeners are registered per event type ([`crate::events`]) or for everything
/// ([`crate::events::Any`]), sync or async. Each call runs on its own task (sync listeners on
/// the blocking pool), so an error, a panic or an overrun in one never reaches another or the
/// caller; [`Dispatcher::dispatch`] reports every outcome and logs failures with `tracing`.
///
/// Cloning is cheap and shares listeners. Must be used inside a Tokio runtime.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    listeners: RwLock<Vec<Entry>>,
    next_id: AtomicU64,
    default_timeout: Duration,
    tracker: TaskTracker,
    cancel: CancellationToken,
    closed: AtomicBool,
    cancelled: AtomicUsize,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("listeners", &self.listener_count())
            .field("default_timeout", &self.inner.default_timeout)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher whose listeners may each run 30 s per call.
    pub fn new() -> Self {
        Self::with_timeout(DEFAULT_TIMEOUT)
    }

    /// A dispatcher with another default time limit per listener call.
    pub fn with_timeout(default_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                listeners: RwLock::new(Vec::new()),
                next_id: AtomicU64::new(1),
                default_timeout,
                tracker: TaskTracker::new(),
                cancel: CancellationToken::new(),
                closed: AtomicBool::new(false),
                cancelled: AtomicUsize::new(0),
            }),
        }
    }

    /// Registers a sync listener for `event`. It runs on Tokio's blocking pool, so it may
    /// block. Returns the id to [`Dispatcher::remove`] it with.
    ///
    /// ```
    /// use kick_dispatch::{Dispatcher, events};
    ///
    /// let dispatcher = Dispatcher::new();
    /// dispatcher.listen(events::ChatMessageSent, |chat| {
    ///     println!("{}: {}", chat.sender.username, chat.plain_text());
    /// });
    /// ```
    pub fn listen<E, F, O>(&self, event: E, listener: F) -> ListenerId
    where
        E: Event,
        F: Fn(Envelope<E>) -> O + Send + Sync + 'static,
        O: ListenerOutput,
    {
        self.listen_with(event, ListenerOptions::default(), listener)
    }

    /// [`Dispatcher::listen`] with a name and time limit.
    pub fn listen_with<E, F, O>(
        &self,
        event: E,
        options: ListenerOptions,
        listener: F,
    ) -> ListenerId
    where
        E: Event,
        F: Fn(Envelope<E>) -> O + Send + Sync + 'static,
        O: ListenerOutput,
    {
        let call = Call::Sync(Arc::new(move |delivery| {
            Envelope::<E>::new(delivery).map_or(Ok(()), |envelope| listener(envelope).into_result())
        }));
        self.register(event, options, call)
    }

    /// Registers an async listener for `event`; each call runs as its own task.
    ///
    /// ```
    /// use kick_dispatch::{Dispatcher, events};
    ///
    /// let dispatcher = Dispatcher::new();
    /// dispatcher.listen_async(events::ChannelFollowed, |follow| async move {
    ///     println!("new follower: {}", follow.follower.username);
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// ```
    pub fn listen_async<E, F, Fut>(&self, event: E, listener: F) -> ListenerId
    where
        E: Event,
        F: Fn(Envelope<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: ListenerOutput> + Send + 'static,
    {
        self.listen_async_with(event, ListenerOptions::default(), listener)
    }

    /// [`Dispatcher::listen_async`] with a name and time limit.
    pub fn listen_async_with<E, F, Fut>(
        &self,
        event: E,
        options: ListenerOptions,
        listener: F,
    ) -> ListenerId
    where
        E: Event,
        F: Fn(Envelope<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: ListenerOutput> + Send + 'static,
    {
        let listener = Arc::new(listener);
        let call = Call::Async(Arc::new(move |delivery| {
            let listener = Arc::clone(&listener);
            Box::pin(async move {
                match Envelope::<E>::new(delivery) {
                    Some(envelope) => listener(envelope).await.into_result(),
                    None => Ok(()),
                }
            })
        }));
        self.register(event, options, call)
    }

    fn register<E: Event>(&self, event: E, options: ListenerOptions, call: Call) -> ListenerId {
        let id = ListenerId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let name = options.name.unwrap_or_else(|| {
            let what = event
                .event_type()
                .map_or_else(|| "any".to_owned(), |t| t.to_string());
            format!("{what}{id}")
        });
        let entry = Entry {
            id,
            name: name.into(),
            accepts: |delivery| E::extract(delivery).is_some(),
            timeout: options.timeout.unwrap_or(self.inner.default_timeout),
            call,
        };
        self.write_listeners().push(entry);
        id
    }

    /// Removes a listener. Calls already running finish. Returns whether it was registered.
    pub fn remove(&self, id: ListenerId) -> bool {
        let mut listeners = self.write_listeners();
        let before = listeners.len();
        listeners.retain(|entry| entry.id != id);
        listeners.len() != before
    }

    /// How many listeners are registered.
    pub fn listener_count(&self) -> usize {
        self.read_listeners().len()
    }

    /// Runs every listener that takes `delivery`, concurrently, and waits for all of them (each
    /// up to its time limit). The report lists each listener's outcome; failures are also
    /// logged at `warn`.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] once [`Dispatcher::shutdown`] has begun.
    pub async fn dispatch(&self, delivery: Arc<Delivery>) -> Result<DispatchReport, DispatchError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(DispatchError::ShutDown);
        }
        Ok(self.run(delivery).await)
    }

    /// Runs the listeners for `delivery` and reports; the caller checked that it was accepted.
    async fn run(&self, delivery: Arc<Delivery>) -> DispatchReport {
        let entries: Vec<Entry> = self
            .read_listeners()
            .iter()
            .filter(|entry| (entry.accepts)(&delivery))
            .cloned()
            .collect();
        let started = Instant::now();
        let running: Vec<_> = entries
            .into_iter()
            .map(|entry| {
                let task = self.start(&entry, Arc::clone(&delivery));
                (entry, task)
            })
            .collect();
        let mut outcomes = Vec::with_capacity(running.len());
        for (entry, task) in running {
            let (result, elapsed) = self
                .finish(task, started + entry.timeout, entry.timeout)
                .await;
            outcomes.push(ListenerOutcome {
                listener: entry.id,
                name: entry.name.to_string(),
                result,
                elapsed: elapsed.unwrap_or_else(|| started.elapsed()),
            });
        }
        let report = DispatchReport {
            message_id: delivery.headers.meta.message_id.clone(),
            event_type: delivery.headers.meta.event_type.clone(),
            outcomes,
        };
        log(&report);
        report
    }

    /// Dispatches in the background and returns at once. The work is tracked: its outcomes are
    /// logged, and [`Dispatcher::shutdown`] waits for it.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] once [`Dispatcher::shutdown`] has begun.
    pub fn publish(&self, delivery: Arc<Delivery>) -> Result<(), DispatchError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(DispatchError::ShutDown);
        }
        let this = self.clone();
        // Accepted now, so it runs even if shutdown begins before the task starts: shutdown
        // waits for (or cancels) tracked tasks, it never drops them.
        self.inner.tracker.spawn(async move {
            this.run(delivery).await;
        });
        Ok(())
    }

    /// Stops accepting events, waits up to `deadline` for running listeners and background
    /// dispatches, then cancels what is left (async listeners are stopped; sync ones are
    /// abandoned on their threads) and reports it.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.tracker.close();
        let drained = tokio::time::timeout(deadline, self.inner.tracker.wait())
            .await
            .is_ok();
        if !drained {
            self.inner.cancel.cancel();
            self.inner.tracker.wait().await;
        }
        let cancelled = self.inner.cancelled.load(Ordering::Acquire);
        if !drained {
            tracing::warn!(
                cancelled,
                ?deadline,
                "dispatcher shutdown cancelled running listeners"
            );
        }
        ShutdownReport { drained, cancelled }
    }

    /// Starts one listener call.
    fn start(&self, entry: &Entry, delivery: Arc<Delivery>) -> Running {
        match &entry.call {
            Call::Async(call) => {
                let call = call(delivery);
                let limit = entry.timeout;
                Running::Async(self.inner.tracker.spawn(async move {
                    let started = Instant::now();
                    match tokio::time::timeout(limit, call).await {
                        Ok(result) => (Some(result), started.elapsed()),
                        Err(_) => (None, limit),
                    }
                }))
            }
            Call::Sync(call) => {
                let call = Arc::clone(call);
                Running::Sync(tokio::task::spawn_blocking(move || {
                    let started = Instant::now();
                    (Some(call(delivery)), started.elapsed())
                }))
            }
        }
    }

    /// Waits for one call until `deadline` or cancellation. Returns how it ended and, when it
    /// returned, how long it ran.
    async fn finish(
        &self,
        running: Running,
        deadline: Instant,
        limit: Duration,
    ) -> (ListenerResult, Option<Duration>) {
        let (handle, abortable) = match running {
            Running::Async(handle) => (handle, true),
            Running::Sync(handle) => (handle, false),
        };
        let abort = handle.abort_handle();
        tokio::select! {
            // A call that already ended is reported as it ended, even when shutdown has begun.
            biased;
            joined = tokio::time::timeout_at(deadline, handle) => match joined {
                // Async calls enforce their limit themselves; a blocking call that ran over but
                // was not looked at until it had returned is still over its limit.
                Ok(Ok((None, _))) => (ListenerResult::TimedOut(limit), Some(limit)),
                Ok(Ok((Some(_), elapsed))) if elapsed > limit => {
                    (ListenerResult::TimedOut(limit), Some(elapsed))
                }
                Ok(Ok((Some(Ok(())), elapsed))) => (ListenerResult::Ok, Some(elapsed)),
                Ok(Ok((Some(Err(why)), elapsed))) => (ListenerResult::Failed(why), Some(elapsed)),
                Ok(Err(err)) => (joined_error(err), None),
                Err(_) => {
                    if abortable {
                        abort.abort();
                    }
                    (ListenerResult::TimedOut(limit), Some(limit))
                }
            },
            () = self.inner.cancel.cancelled() => {
                if abortable {
                    abort.abort();
                }
                self.inner.cancelled.fetch_add(1, Ordering::AcqRel);
                (ListenerResult::Cancelled, None)
            }
        }
    }

    fn read_listeners(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        // A panic never happens while the lock is held (only Vec operations), so poisoning
        // carries no broken state: recover the guard.
        self.inner
            .listeners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_listeners(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
        self.inner
            .listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running listener call.
enum Running {
    Async(tokio::task::JoinHandle<CallEnd>),
    Sync(tokio::task::JoinHandle<CallEnd>),
}

/// How a call ended (`None`: it hit its time limit) and how long it ran.
type CallEnd = (Option<Result<(), String>>, Duration);

fn joined_error(err: JoinError) -> ListenerResult {
    if err.is_panic() {
        ListenerResult::Panicked(panic_message(&err.into_panic()))
    } else {
        ListenerResult::Cancelled
    }
}

fn panic_message(payload: &Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

fn log(report: &DispatchReport) {
    for outcome in &report.outcomes {
        if outcome.result == ListenerResult::Ok {
            tracing::debug!(
                listener = %outcome.name,
                message_id = %report.message_id,
                event_type = %report.event_type,
                elapsed = ?outcome.elapsed,
                "listener ok"
            );
        } else {
            tracing::warn!(
                listener = %outcome.name,
                message_id = %report.message_id,
                event_type = %report.event_type,
                result = %outcome.result,
                "listener did not succeed"
            );
        }
    }
}
