//! The store: inbox (idempotency) and outbox (durable delivery), on SQLite (the embedded
//! default) or PostgreSQL (shared by several replicas). [`Store`] is the one interface the rest
//! of the relay sees; the backends live in `sqlite` and `postgres`.

use std::{collections::HashSet, sync::Arc, time::Duration};

use tokio::sync::{broadcast, oneshot};

mod backend;
mod counts;
mod database_id;
mod dedup;
mod feed;
mod ids;
mod keys;
mod log;
mod postgres;
mod read;
mod sqlite;
mod types;

use self::backend::Backend;
pub use self::{
    feed::{FEED_CAPACITY, FEED_MAX_BYTES, Feed, Taken},
    keys::{BODY_DEDUP_WINDOW, body_key},
    postgres::is_postgres_url,
    sqlite::database_file,
    types::{
        Accepted, AttemptRow, Completion, DedupScope, DeliveryDetail, DeliveryRow, Head, InboxRow,
        NewDelivery, OutputOverview, READ_MAX_BYTES, Replayed, Request, Stats, Status, StoredEvent,
        Synchronous,
    },
};

/// A replay onto a disabled output, refused: its rows would stay pending and never go out.
#[derive(Debug)]
pub struct OutputDisabled(pub String);

impl std::fmt::Display for OutputDisabled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "output {0:?} is disabled, so replayed deliveries would never go out: enable it first (`kick-relay outputs enable {0}`, or Enable on the admin page), then replay",
            self.0
        )
    }
}

impl std::error::Error for OutputDisabled {}

/// How `serve` opens its database (the CLI's commands open it as they find it).
#[derive(Clone, Copy, Debug, Default)]
pub struct Serving {
    /// Start with an empty database even where files beside a missing SQLite database, or its
    /// marker, say one existed (`serve --start-empty`).
    pub start_empty: bool,
}

/// The store, on whichever database `storage.database_url` names. Cloning is cheap.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Arc<dyn Backend>,
    /// When the last accept failed to commit, and why (cleared by the next that commits).
    failing: Arc<std::sync::Mutex<Option<(std::time::Instant, String)>>>,
}

/// How long a failed webhook commit keeps [`Store::failing`] answering, unless a later one
/// commits: `/readyz` fails from the first failed commit on, and, when no webhook comes to
/// commit (a balancer sends none to a replica that is not ready), looks at the database
/// again after this long (the `Retry-After` the relay answers with a 503).
pub const COMMIT_FAILURE_HOLD: Duration = Duration::from_secs(5);

impl Store {
    /// Opens (creating the schema if needed) the database `url` names: `sqlite:` or
    /// `postgres://` (`postgresql://`).
    ///
    /// # Errors
    /// When the database cannot be reached, opened or migrated.
    pub async fn open(url: &str, synchronous: Synchronous) -> anyhow::Result<Self> {
        Self::open_as(url, synchronous, None).await
    }

    /// [`Store::open`] for `serve`: a database that is not the one served before is refused
    /// (SQLite: deleted, moved or replaced; its `<database>.id` marker says which it was), and
    /// the store keeps checking while it serves: once the database it writes is no longer the
    /// one at its path (SQLite) or under its name (PostgreSQL: dropped and created again),
    /// every write fails, saying why, and `/readyz` fails.
    ///
    /// # Errors
    /// As [`Store::open`], and a database that is not the one served before.
    pub async fn open_serving(
        url: &str,
        synchronous: Synchronous,
        serving: Serving,
    ) -> anyhow::Result<Self> {
        Self::open_as(url, synchronous, Some(serving)).await
    }

    async fn open_as(
        url: &str,
        synchronous: Synchronous,
        serving: Option<Serving>,
    ) -> anyhow::Result<Self> {
        let backend: Arc<dyn Backend> = if is_postgres_url(url) {
            Arc::new(postgres::PgStore::open(url, serving.is_some()).await?)
        } else {
            Arc::new(sqlite::SqliteStore::open(url, synchronous, serving).await?)
        };
        Ok(Self {
            backend,
            failing: Arc::default(),
        })
    }

    /// Why the last accept failed to commit, when it did less than [`COMMIT_FAILURE_HOLD`]
    /// ago and none has committed since.
    pub fn failing(&self) -> Option<String> {
        let last = self.failing.lock().ok()?;
        last.as_ref()
            .filter(|(at, _)| at.elapsed() < COMMIT_FAILURE_HOLD)
            .map(|(_, why)| why.clone())
    }

    /// Which database this is: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// Records an accepted delivery for its outputs in one transaction, committed with
    /// whatever else is waiting. Returns after the commit. With `event` (the delivery as
    /// parsed on arrival), the new rows also go to their outputs' feeds ([`Store::feed`]).
    ///
    /// # Errors
    /// When the commit fails (disk full, database down, …): nothing was stored.
    pub async fn accept(
        &self,
        inbox: InboxRow,
        deliveries: Vec<NewDelivery>,
        event: Option<Arc<kick_models::Delivery>>,
    ) -> anyhow::Result<Accepted> {
        let accepted = self.backend.accept(inbox, deliveries, event).await;
        if let Ok(mut last) = self.failing.lock() {
            *last = accepted
                .as_ref()
                .err()
                .map(|err| (std::time::Instant::now(), format!("{err:#}")));
        }
        accepted
    }

    /// Why the database is no longer the one this relay served (deleted, replaced, dropped),
    /// once that was found; from then on every write fails.
    pub fn lost(&self) -> Option<String> {
        self.backend.lost()
    }

    /// The feed of `output`'s rows as this process commits them, when the database allows
    /// one (SQLite: this process is its only writer of new rows); `None` on PostgreSQL.
    /// Rows go to a feed only once its worker has asked for it.
    pub fn feed(&self, output: &str) -> Option<Arc<Feed>> {
        self.backend.feed(output)
    }

    /// How many times any process made rows pending again (an operator's replay): a worker
    /// taking rows from a feed reads the store again when this changes.
    ///
    /// # Errors
    /// A read failure.
    pub async fn requeues(&self) -> anyhow::Result<i64> {
        self.backend.requeues().await
    }

    /// Queues the outcome of a send without waiting for its commit; the receiver says when it
    /// was committed (completions commit in the order they were queued).
    ///
    /// # Errors
    /// When the writer has stopped.
    pub async fn complete_queued(
        &self,
        completion: Completion,
    ) -> anyhow::Result<oneshot::Receiver<anyhow::Result<()>>> {
        self.backend.complete_queued(completion).await
    }

    /// Marks an output disabled and its pending deliveries skipped.
    ///
    /// # Errors
    /// When the commit fails.
    pub async fn disable_output(&self, name: &str, reason: &str, at: i64) -> anyhow::Result<()> {
        self.backend.disable_output(name, reason, at).await
    }

    /// Enables an output again (operator command; [`Store::disable_output`] disables).
    ///
    /// # Errors
    /// A write failure.
    pub async fn enable_output(&self, name: &str, now: i64) -> anyhow::Result<()> {
        self.backend.enable_output(name, now).await
    }

    /// Queues one finished (dead, skipped or expired) delivery again; whether there was one.
    ///
    /// # Errors
    /// A write failure, or [`OutputDisabled`] for a delivery of a disabled output.
    pub async fn replay_one(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        if let Some(detail) = self.backend.detail(id).await? {
            self.refuse_if_disabled(&detail.delivery.output).await?;
        }
        Ok(self.backend.requeue(&Replayed::One(id), now).await? == 1)
    }

    /// [`OutputDisabled`] when `output` is disabled: a replayed row would stay pending, never
    /// sent, and keep the backlog alarm up.
    async fn refuse_if_disabled(&self, output: &str) -> anyhow::Result<()> {
        if self.backend.output_disabled(output).await?.is_some() {
            return Err(OutputDisabled(output.to_owned()).into());
        }
        Ok(())
    }

    /// Queues finished deliveries of `output` with `status`, created in `[since, until)`, again.
    ///
    /// # Errors
    /// A write failure, `status` pending, or [`OutputDisabled`].
    pub async fn replay(
        &self,
        output: &str,
        status: Status,
        since: Option<i64>,
        until: Option<i64>,
        now: i64,
    ) -> anyhow::Result<u64> {
        anyhow::ensure!(
            status != Status::Pending,
            "pending deliveries are already queued"
        );
        self.refuse_if_disabled(output).await?;
        let range = Replayed::Range {
            output: output.to_owned(),
            status,
            since,
            until,
        };
        self.backend.requeue(&range, now).await
    }

    /// Deletes events received before `before` (the idempotency window has passed) and
    /// delivered or expired deliveries finished before it. Events a pending, dead or skipped
    /// delivery may still send stay: they still need an operator or a send.
    ///
    /// # Errors
    /// When the commit fails.
    pub async fn purge(&self, before: i64) -> anyhow::Result<()> {
        self.backend.purge(before).await
    }

    /// Checks that the database takes a write (for `/readyz`).
    ///
    /// # Errors
    /// When it does not.
    pub async fn check_writable(&self, now: i64) -> anyhow::Result<()> {
        self.backend.check_writable(now).await
    }

    /// Closes the database: what was queued is committed, every connection closed. Later
    /// writes fail with "the store's writer has stopped".
    ///
    /// # Errors
    /// When the final commit or close fails (the next open recovers).
    pub async fn close(&self) -> anyhow::Result<()> {
        self.backend.close().await
    }

    /// Up to `limit` pending deliveries of `output` with ids above `after`, oldest first.
    ///
    /// # Errors
    /// A read failure.
    pub async fn pending_after(
        &self,
        output: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Head>> {
        self.backend.pending_after(output, after, limit).await
    }

    /// Whether `output` is disabled, and why.
    ///
    /// # Errors
    /// A read failure.
    pub async fn output_disabled(&self, output: &str) -> anyhow::Result<Option<String>> {
        self.backend.output_disabled(output).await
    }

    /// The names of every output disabled in the store (by a 401/403/404/410, or by an
    /// operator's `kick-relay outputs disable`, possibly from another process).
    ///
    /// # Errors
    /// A read failure.
    pub async fn disabled_outputs(&self) -> anyhow::Result<HashSet<String>> {
        self.backend.disabled_outputs().await
    }

    /// Counts for `/metrics` and `/readyz`.
    ///
    /// # Errors
    /// A read failure.
    pub async fn stats(&self, now: i64) -> anyhow::Result<Stats> {
        self.backend.stats(now).await
    }

    /// Recomputes the counts [`Store::stats`] reads where the backend keeps them (SQLite),
    /// from the rows: a serving relay does it at start.
    ///
    /// # Errors
    /// A write failure.
    pub async fn recount(&self) -> anyhow::Result<()> {
        self.backend.recount().await
    }

    /// Deliveries, newest first.
    ///
    /// # Errors
    /// A read failure.
    pub async fn list(
        &self,
        output: Option<&str>,
        status: Option<Status>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        self.backend
            .list(output, status.map(Status::as_str), limit.clamp(1, 100_000))
            .await
    }

    /// One delivery with its history and event.
    ///
    /// # Errors
    /// A read failure.
    pub async fn detail(&self, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
        self.backend.detail(id).await
    }

    /// Backlog, oldest pending age and newest error of `output`.
    ///
    /// # Errors
    /// A read failure.
    pub async fn overview(&self, output: &str, now: i64) -> anyhow::Result<OutputOverview> {
        self.backend.overview(output, now).await
    }

    /// Takes or renews the lease `name` (an output's worker, the purge, the reconciler) for
    /// `holder` until `ttl` from now on the database's clock; whether `holder` holds it. On
    /// SQLite one serving process holds every lease (the instance lock keeps others out).
    ///
    /// # Errors
    /// A database failure (the caller keeps what it holds until its own deadline).
    pub async fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> anyhow::Result<bool> {
        self.backend.try_lease(name, holder, ttl).await
    }

    /// Gives up `holder`'s lease `name`, so another replica takes it without waiting it out.
    ///
    /// # Errors
    /// A database failure (the lease then runs out by itself).
    pub async fn release_lease(&self, name: &str, holder: &str) -> anyhow::Result<()> {
        self.backend.release_lease(name, holder).await
    }

    /// Names of outputs that got new or replayed rows from another replica, as announced by
    /// the database (PostgreSQL's NOTIFY); `None` on SQLite.
    pub fn announcements(&self) -> Option<broadcast::Receiver<String>> {
        self.backend.announcements()
    }
}
