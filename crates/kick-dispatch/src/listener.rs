//! Listeners: ids, options, and the closures behind them.

use std::{fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use kick_models::Delivery;

/// Identifies a registered listener; pass it to [`crate::Dispatcher::remove`].
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct ListenerId(pub(crate) u64);

impl fmt::Display for ListenerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A listener's name (for reports and logs) and time limit.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct ListenerOptions {
    /// Shown in reports and logs; default: the event type and the listener id.
    pub name: Option<String>,
    /// How long one call may run; default: the dispatcher's (30 s unless configured).
    pub timeout: Option<Duration>,
}

impl ListenerOptions {
    /// Options with a name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            timeout: None,
        }
    }

    /// With a time limit.
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }
}

/// What a listener may return: `()` or `Result<(), E>` for any displayable `E`.
pub trait ListenerOutput: Send + 'static {
    /// `Err` with the error's text when the listener failed.
    ///
    /// # Errors
    /// The listener's own error, as text.
    fn into_result(self) -> Result<(), String>;
}

impl ListenerOutput for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display + Send + 'static> ListenerOutput for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|err| err.to_string())
    }
}

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// The erased call: sync listeners run on the blocking pool, async ones as tasks.
#[derive(Clone)]
pub(crate) enum Call {
    Sync(Arc<dyn Fn(Arc<Delivery>) -> Result<(), String> + Send + Sync>),
    Async(Arc<dyn Fn(Arc<Delivery>) -> BoxFuture + Send + Sync>),
}

/// A registered listener.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) id: ListenerId,
    pub(crate) name: Arc<str>,
    /// Whether the listener's event is in a delivery (its typed payload extracts).
    pub(crate) accepts: fn(&Delivery) -> bool,
    pub(crate) timeout: Duration,
    pub(crate) call: Call,
}
