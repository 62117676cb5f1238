//! What happened to each listener of a dispatched event.

use std::{fmt, time::Duration};

use kick_models::EventType;

use crate::ListenerId;

/// The outcome of one dispatch: every listener that ran, and how it ended.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DispatchReport {
    /// The delivery's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// The delivery's event type.
    pub event_type: EventType,
    /// One entry per listener that matched, in registration order.
    pub outcomes: Vec<ListenerOutcome>,
}

impl DispatchReport {
    /// `true` when every listener returned successfully (also when none matched).
    pub fn all_ok(&self) -> bool {
        self.outcomes.iter().all(|o| o.result == ListenerResult::Ok)
    }

    /// The outcomes that were not [`ListenerResult::Ok`].
    pub fn failures(&self) -> impl Iterator<Item = &ListenerOutcome> {
        self.outcomes
            .iter()
            .filter(|o| o.result != ListenerResult::Ok)
    }
}

/// How one listener ended.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ListenerOutcome {
    /// Which listener.
    pub listener: ListenerId,
    /// Its name.
    pub name: String,
    /// How it ended.
    pub result: ListenerResult,
    /// How long it ran (up to its limit).
    pub elapsed: Duration,
}

/// How a listener ended.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ListenerResult {
    /// Returned successfully.
    Ok,
    /// Returned an error (its text).
    Failed(String),
    /// Panicked (the panic message, when it was a string).
    Panicked(String),
    /// Ran past its time limit; an async listener was stopped, a sync one abandoned.
    TimedOut(Duration),
    /// Stopped by [`crate::Dispatcher::shutdown`] at its deadline.
    Cancelled,
}

impl fmt::Display for ListenerResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Failed(why) => write!(f, "failed: {why}"),
            Self::Panicked(why) => write!(f, "panicked: {why}"),
            Self::TimedOut(limit) => write!(f, "timed out after {limit:?}"),
            Self::Cancelled => f.write_str("cancelled at shutdown"),
        }
    }
}
