//! The PostgreSQL store, shared by any number of replicas: the same tables and behaviour as
//! SQLite's. Accepts and send outcomes are committed in groups by two tasks (one transaction
//! each per group); reads, operator writes and leases use the pool. New rows are announced
//! with NOTIFY so the replica sending an output wakes without polling.

use std::{
    collections::HashSet,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use async_trait::async_trait;
use sqlx::{
    Connection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::{
    sync::{broadcast, oneshot},
    task::JoinHandle,
};

use super::{
    Accepted, Completion, DeliveryDetail, DeliveryRow, Head, InboxRow, NewDelivery, OutputOverview,
    Replayed, Stats, backend::Backend, dedup::Job,
};

mod batch;
mod counts;
mod cursors;
mod identity;
mod lease;
mod operator;
mod read;
mod schema;
mod settle;
mod write;

use self::{batch::Batcher, identity::PgIdentity};

/// The NOTIFY channel new deliveries are announced on (payload: the output's name).
pub(super) const CHANNEL: &str = "kick_relay_outbox";

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The PostgreSQL store.
#[derive(Debug)]
pub(super) struct PgStore {
    pool: PgPool,
    accepts: Batcher<Job, Accepted>,
    completions: Batcher<Completion, ()>,
    announced: broadcast::Sender<String>,
    listener: Mutex<Option<JoinHandle<()>>>,
    /// The database served and whether it still is (`serve` only), and its watcher.
    identity: Option<Arc<PgIdentity>>,
    watcher: Mutex<Option<JoinHandle<()>>>,
}

/// How long a write waits for a connection: while the database is down, a request gets its
/// 503 after this (Kick retries it later).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections in the pool: two group writers, the listener, reads and operator writes.
const POOL_SIZE: u32 = 10;

impl PgStore {
    /// Connects, brings the schema up to date and starts the group writers and the listener;
    /// when `serving`, reads the database's id and watches that it stays the same.
    pub(super) async fn open(url: &str, serving: bool) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|err| anyhow::anyhow!("storage.database_url is not a PostgreSQL URL: {err}"))?
            .application_name("kick-relay");
        let shown = redact(url);
        // One connection first: its error says why (refused, no such database, password);
        // the pool's own says only that it timed out.
        let first = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(|err| {
                anyhow::anyhow!("cannot connect to PostgreSQL at {shown}: {err} (is the server running and reachable, and do the user, password and database exist?)")
            })?;
        first.close().await.ok();
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {shown}"))?;
        schema::migrate(&pool)
            .await
            .with_context(|| format!("cannot prepare the schema in {shown}"))?;
        let accepts = Batcher::start(pool.clone(), write::accept_group, Duration::ZERO);
        let completions = Batcher::start(
            pool.clone(),
            write::complete_group,
            write::COMPLETION_LINGER,
        );
        let (announced, _) = broadcast::channel(1024);
        let listener = lease::listen(pool.clone(), announced.clone()).await?;
        let (identity, watcher) = if serving {
            let database_id = schema::database_id(&pool).await?;
            tracing::info!(database_id = %database_id, "serving PostgreSQL database {shown}");
            let identity = Arc::new(PgIdentity::new(database_id));
            let watcher = tokio::spawn({
                let (identity, pool) = (Arc::clone(&identity), pool.clone());
                async move {
                    // Ends at the first loss (it stays lost) or when the store closes.
                    while identity.lost().is_ok() {
                        tokio::time::sleep(identity::CHECK_EVERY).await;
                        let _ = identity.check(&pool).await;
                    }
                }
            });
            (Some(identity), Some(watcher))
        } else {
            (None, None)
        };
        Ok(Self {
            pool,
            accepts,
            completions,
            announced,
            listener: Mutex::new(Some(listener)),
            identity,
            watcher: Mutex::new(watcher),
        })
    }
}

impl PgStore {
    /// `Ok` unless a check found the database is no longer the one served.
    fn still_served(&self) -> anyhow::Result<()> {
        self.identity
            .as_ref()
            .map_or(Ok(()), |identity| identity.lost())
    }
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(the configured URL)".into(),
    }
}

#[async_trait]
impl Backend for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn accept(
        &self,
        inbox: InboxRow,
        deliveries: Vec<NewDelivery>,
        _event: Option<Arc<kick_models::Delivery>>,
    ) -> anyhow::Result<Accepted> {
        self.still_served()?;
        self.accepts.call((inbox, deliveries)).await
    }

    fn lost(&self) -> Option<String> {
        self.identity
            .as_ref()
            .and_then(|identity| identity.lost().err())
            .map(|err| err.to_string())
    }

    async fn complete_queued(
        &self,
        completion: Completion,
    ) -> anyhow::Result<oneshot::Receiver<anyhow::Result<()>>> {
        self.completions.queue(completion).await
    }

    async fn disable_output(&self, name: &str, reason: &str, at: i64) -> anyhow::Result<()> {
        operator::disable_output(&self.pool, name, reason, at).await
    }

    async fn enable_output(&self, name: &str, at: i64) -> anyhow::Result<()> {
        self.still_served()?;
        operator::enable_output(&self.pool, name, at).await
    }

    async fn requeue(&self, which: &Replayed, now: i64) -> anyhow::Result<u64> {
        self.still_served()?;
        operator::requeue(&self.pool, which, now).await
    }

    async fn purge(&self, before: i64) -> anyhow::Result<()> {
        self.still_served()?;
        operator::purge(&self.pool, before).await
    }

    async fn check_writable(&self, now: i64) -> anyhow::Result<()> {
        if let Some(identity) = &self.identity {
            identity.check(&self.pool).await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('ready_probe', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(now.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn close(&self) -> anyhow::Result<()> {
        self.accepts.close().await;
        self.completions.close().await;
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        if let Some(listener) = listener {
            listener.abort();
        }
        let watcher = self.watcher.lock().ok().and_then(|mut w| w.take());
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        self.pool.close().await;
        Ok(())
    }

    async fn pending_after(
        &self,
        output: &str,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Head>> {
        read::pending_after(&self.pool, output, after, limit).await
    }

    async fn output_disabled(&self, output: &str) -> anyhow::Result<Option<String>> {
        read::output_disabled(&self.pool, output).await
    }

    async fn disabled_outputs(&self) -> anyhow::Result<HashSet<String>> {
        read::disabled_outputs(&self.pool).await
    }

    async fn stats(&self, now: i64) -> anyhow::Result<Stats> {
        read::stats(&self.pool, now).await
    }

    async fn list(
        &self,
        output: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        read::list(&self.pool, output, status, limit).await
    }

    async fn detail(&self, id: i64) -> anyhow::Result<Option<DeliveryDetail>> {
        read::detail(&self.pool, id).await
    }

    async fn overview(&self, output: &str, now: i64) -> anyhow::Result<OutputOverview> {
        read::overview(&self.pool, output, now).await
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> anyhow::Result<bool> {
        lease::try_lease(&self.pool, name, holder, ttl).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> anyhow::Result<()> {
        lease::release(&self.pool, name, holder).await
    }

    fn announcements(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.announced.subscribe())
    }
}
