//! What a database must do for the relay: the one interface the SQLite and PostgreSQL stores
//! implement. Ingest, delivery, admin and the CLI see only [`super::Store`], which holds one.

use std::{collections::HashSet, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use kick_models::Delivery;
use tokio::sync::{broadcast, oneshot};

use super::{
    Accepted, Completion, DeliveryDetail, DeliveryRow, Feed, Head, InboxRow, NewDelivery,
    OutputOverview, Replayed, Stats,
};

/// A store backend. Times are Unix milliseconds from the relay's clock, except leases, which
/// run on the database's own clock so that replicas on different hosts agree.
#[async_trait]
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    /// Which database this is (`sqlite` or `postgres`), for logs and `/readyz`.
    fn kind(&self) -> &'static str;

    /// Records a delivery and its outbox rows in one transaction; returns after the commit.
    /// `event` (the parsed delivery) goes to the outputs' feeds, where the backend has them.
    async fn accept(
        &self,
        inbox: InboxRow,
        deliveries: Vec<NewDelivery>,
        event: Option<Arc<Delivery>>,
    ) -> anyhow::Result<Accepted>;

    /// Why the database is no longer the one served, once a check found it (`serve` only).
    fn lost(&self) -> Option<String> {
        None
    }

    /// The feed of `output`'s newly committed rows, where this backend can keep one.
    fn feed(&self, _output: &str) -> Option<Arc<Feed>> {
        None
    }

    /// How many times rows were made pending again outside the feeds (by any process), where
    /// the backend has feeds: a worker taking its rows from a feed reads the store when this
    /// changes.
    async fn requeues(&self) -> anyhow::Result<i64> {
        Ok(0)
    }

    /// Queues a send's outcome; the receiver says when it was committed (in queue order).
    async fn complete_queued(
        &self,
        completion: Completion,
    ) -> anyhow::Result<oneshot::Receiver<anyhow::Result<()>>>;

    /// Marks an output disabled and its pending deliveries skipped.
    async fn disable_output(&self, name: &str, reason: &str, at: i64) -> anyhow::Result<()>;

    /// Marks an output enabled.
    async fn enable_output(&self, name: &str, at: i64) -> anyhow::Result<()>;

    /// Marks the finished rows `which` names pending again, with a line in each one's history.
    async fn requeue(&self, which: &Replayed, now: i64) -> anyhow::Result<u64>;

    /// Deletes what the retention window no longer keeps.
    async fn purge(&self, before: i64) -> anyhow::Result<()>;

    /// A real (tiny) write, committed.
    async fn check_writable(&self, now: i64) -> anyhow::Result<()>;

    /// Commits what is queued and closes every connection.
    async fn close(&self) -> anyhow::Result<()>;

    /// Up to `limit` pending deliveries of `output` with ids above `after`, oldest first.
    async fn pending_after(
        &self,
        output: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Head>>;

    /// Whether `output` is disabled, and why.
    async fn output_disabled(&self, output: &str) -> anyhow::Result<Option<String>>;

    /// Every disabled output's name.
    async fn disabled_outputs(&self) -> anyhow::Result<HashSet<String>>;

    /// Counts for `/metrics` and `/readyz`.
    async fn stats(&self, now: i64) -> anyhow::Result<Stats>;

    /// Recomputes what the backend keeps counted from the rows themselves (when a relay
    /// starts serving: a database written by another version may have left them behind).
    async fn recount(&self) -> anyhow::Result<()> {
        Ok(())
    }

    /// Deliveries, newest first.
    async fn list(
        &self,
        output: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeliveryRow>>;

    /// One delivery with its history and event.
    async fn detail(&self, id: i64) -> anyhow::Result<Option<DeliveryDetail>>;

    /// Backlog, oldest pending age and newest error of `output`.
    async fn overview(&self, output: &str, now: i64) -> anyhow::Result<OutputOverview>;

    /// Takes or renews the lease `name` for `holder` for `ttl`; whether `holder` has it now.
    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> anyhow::Result<bool>;

    /// Gives up `holder`'s lease `name` (at shutdown), so another replica takes it at once.
    async fn release_lease(&self, name: &str, holder: &str) -> anyhow::Result<()>;

    /// Names of outputs that got new or replayed rows from another process, as they come;
    /// `None` when no other process can write (then nothing needs announcing).
    fn announcements(&self) -> Option<broadcast::Receiver<String>>;
}
