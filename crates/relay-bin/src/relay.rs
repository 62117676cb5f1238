//! The relay's state, shared by ingest, delivery and admin: the configuration, the store, the
//! key, the outputs, the counters. Starting and stopping it is `running`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use kick_dispatch::Dispatcher;
use kick_verify::PublicKey;
use kick_webhook::KeyStore;
use relay_sinks::{DiscordLimits, Sink};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::Clock,
    config::Config,
    instance_lock::InstanceLock,
    late_log::LateLog,
    lease::{self, Lease},
    metrics::Metrics,
    store::{Serving, Store, database_file, is_postgres_url},
};

/// One configured output and its worker's wake-up bell.
#[derive(Debug)]
pub struct Output {
    /// The sink.
    pub sink: Arc<dyn Sink>,
    /// Waits between attempts.
    pub schedule: Vec<Duration>,
    /// Give up on events older than this.
    pub max_age: Option<Duration>,
    /// Requests in flight at once (1: strictly in order).
    pub in_flight: usize,
    /// Rung when new deliveries are stored.
    pub wake: Notify,
    /// Whether the output is disabled (mirrors the store).
    pub disabled: AtomicBool,
    /// Discord: chat waiting longer than this is skipped (folded into one line).
    pub max_lag: Option<Duration>,
    /// Whether this replica sends this output (see `leases`).
    pub lease: Lease,
}

impl Output {
    /// Whether the worker must not send now: the output is disabled, or another replica
    /// sends it.
    pub fn standing_by(&self) -> bool {
        self.disabled.load(Ordering::Acquire) || !self.lease.is_held()
    }
}

/// Takes the instance lock (one serving process per SQLite file; PostgreSQL replicas share by
/// leases instead) before the database is looked at, so the checks that it is the one served
/// before, and `--start-empty`, see no other relay at work on it; then opens the store.
async fn open_store(
    storage: &crate::config::StorageConfig,
) -> anyhow::Result<(Option<InstanceLock>, Store)> {
    let url = &storage.database_url;
    if let Some(problem) = storage.left_in_working_directory() {
        anyhow::bail!(problem);
    }
    let instance_lock = if is_postgres_url(url) {
        None
    } else {
        InstanceLock::acquire(database_file(url).as_deref())?
    };
    let store = Store::open_serving(
        url,
        storage.synchronous,
        Serving {
            start_empty: storage.start_empty,
        },
    )
    .await?;
    Ok((instance_lock, store))
}

/// State shared by every part of the relay.
#[derive(Debug)]
pub struct Relay {
    /// The configuration in force.
    pub config: Config,
    /// The store.
    pub store: Store,
    /// Kick's key.
    pub keys: KeyStore,
    /// Outputs in config order.
    pub outputs: Vec<Output>,
    /// Counters.
    pub metrics: Metrics,
    /// When a late delivery gets its log line.
    pub late_log: LateLog,
    /// In-process listeners for accepted events (none by default; library users may add
    /// theirs). The delivery workers are woken directly, not through it.
    pub dispatcher: Dispatcher,
    /// Set when shutdown begins: workers finish their current send and stop.
    pub stopping: CancellationToken,
    /// Bytes of request bodies that may be held at once (`server.max_buffered_body_bytes`).
    pub body_budget: Semaphore,
    /// Where it reads the time.
    pub clock: Clock,
    /// When this process started serving (Unix ms): the in-memory counts start here.
    pub started_ms: i64,
    /// This replica's name in the store's leases.
    pub holder: String,
    /// The singleton leases besides the outputs': the purge and the reconciler.
    pub singletons: [Lease; 2],
    /// This relay's claim on its database, released at shutdown.
    instance_lock: std::sync::Mutex<Option<InstanceLock>>,
}

impl Relay {
    /// Opens the store, loads the key and builds the outputs.
    ///
    /// # Errors
    /// A store, key or output that cannot be set up.
    pub async fn new(config: Config) -> anyhow::Result<Arc<Self>> {
        Self::with_clock(config, Clock::system()).await
    }

    /// [`Relay::new`] reading the time from `clock`.
    ///
    /// # Errors
    /// A store, key or output that cannot be set up.
    pub async fn with_clock(config: Config, clock: Clock) -> anyhow::Result<Arc<Self>> {
        let (instance_lock, store) = open_store(&config.storage).await?;
        store
            .recount()
            .await
            .context("cannot count the outbox's rows")?;
        let key = match &config.kick.public_key_file {
            Some(path) => {
                let pem = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read kick.public_key_file {}", path.display())
                })?;
                PublicKey::from_pem(&pem)
                    .with_context(|| format!("kick.public_key_file {}", path.display()))?
            }
            None => PublicKey::kick().context("Kick's built-in key")?,
        };
        let client = if config.kick.refresh_public_key && config.kick.public_key_file.is_none() {
            Some(
                kick_api::KickClient::builder()
                    .api_base_url(&config.kick.api_base_url)
                    .oauth_base_url(&config.kick.oauth_base_url)
                    .retry(kick_api::RetryPolicy::none())
                    .timeout(Duration::from_secs(5))
                    .build()
                    .context("kick.api_base_url")?,
            )
        } else {
            None
        };
        // One per process: Discord's global limit, and one pace per webhook.
        let discord_limits = DiscordLimits::new();
        let mut outputs = Vec::new();
        for output in &config.outputs {
            let name = output.name.clone();
            let sink = output.sink(&discord_limits)?;
            let disabled = store.output_disabled(&name).await?.is_some();
            outputs.push(Output {
                sink,
                schedule: output.schedule.clone(),
                max_age: output.max_age,
                in_flight: output.in_flight(),
                wake: Notify::new(),
                disabled: AtomicBool::new(disabled),
                max_lag: output.max_lag(),
                lease: Lease::new(lease::output_lease(&name)),
            });
        }
        let body_budget = Semaphore::new(config.server.max_buffered_body_bytes);
        let relay = Arc::new(Self {
            body_budget,
            config,
            store,
            keys: KeyStore::new(key, client),
            outputs,
            metrics: Metrics::default(),
            late_log: LateLog::default(),
            dispatcher: Dispatcher::new(),
            stopping: CancellationToken::new(),
            instance_lock: std::sync::Mutex::new(instance_lock),
            started_ms: clock.now_ms(),
            clock,
            holder: lease::holder_name(),
            singletons: [
                Lease::new(lease::PURGE.into()),
                Lease::new(lease::RECONCILER.into()),
            ],
        });
        Ok(relay)
    }

    /// Every lease this replica wants: one per output, then the singletons.
    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.outputs
            .iter()
            .map(|o| &o.lease)
            .chain(self.singletons.iter())
    }

    /// The singleton lease `name`.
    pub fn singleton(&self, name: &str) -> Option<&Lease> {
        self.singletons.iter().find(|l| l.name == name)
    }

    /// Wakes the worker whose lease is `name` (just taken: it has a queue to resume).
    pub fn wake_holder_of(&self, name: &str) {
        if let Some(output) = self.outputs.iter().find(|o| o.lease.name == name) {
            output.wake.notify_one();
        }
    }

    /// Lets another relay serve this database from now on (at shutdown, after the store closed).
    pub fn release_instance_lock(&self) {
        if let Ok(mut lock) = self.instance_lock.lock() {
            lock.take();
        }
    }
}
