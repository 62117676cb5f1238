//! Outcomes queued to the writer whose commit the worker has not seen yet.

use super::MAX_UNCOMMITTED;
use crate::{relay::Relay, store::Completion};

/// The commit notice of one queued completion.
type Committed = tokio::sync::oneshot::Receiver<anyhow::Result<()>>;

/// Commit notices of queued completions, oldest first (the writer commits them in this order).
#[derive(Default)]
pub(super) struct Uncommitted(std::collections::VecDeque<Committed>);

impl Uncommitted {
    /// Queues a completion without waiting for its commit, unless [`MAX_UNCOMMITTED`] are
    /// already waiting: then waits for the oldest first. A writer that is gone is logged.
    pub(super) async fn queue(&mut self, relay: &Relay, name: &str, completion: Completion) {
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
    pub(super) async fn wait_all(&mut self, name: &str) {
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
