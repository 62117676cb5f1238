//! A started relay: its listeners, delivery workers and background tasks, and a graceful stop.

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use anyhow::Context;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{admin, delivery, ingest, lease, leases, reconciler, relay::Relay, serve::Limits};

/// Connections the admin listener serves at once (health checks, scrapes, the page): room for
/// a hundred or two slow clients before a liveness probe has to wait (~8 MiB of read buffers
/// at most).
const ADMIN_MAX_CONNECTIONS: usize = 256;
/// How long a client of the admin listener may take to send a request's headers: a probe or a
/// browser sends them at once; a client holding a slot without finishing loses it soon, so
/// that even with every slot taken a probe waits at most this long.
const ADMIN_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the relay reads which outputs are disabled in the store, so that
/// `kick-relay outputs enable|disable` from another process takes effect within this.
const OUTPUT_STATE_POLL: Duration = Duration::from_secs(1);

/// A started relay: its addresses and a way to stop it.
#[derive(Debug)]
pub struct Running {
    /// Where the public listener is.
    pub public_addr: SocketAddr,
    /// Where the admin listener is.
    pub admin_addr: SocketAddr,
    stop: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
    relay: Arc<Relay>,
}

impl Running {
    /// The relay's state (for tests and embedding).
    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// Graceful stop: no new requests, in-flight requests and sends finish within the
    /// configured deadline.
    ///
    /// # Errors
    /// A listener or worker that failed.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        let deadline = Duration::from_secs(self.relay.config.server.shutdown_timeout_secs);
        let finished = tokio::time::timeout(deadline, async {
            let mut first_error = None;
            while let Some(joined) = self.tasks.join_next().await {
                if let Ok(Err(err)) | Err(err) = joined.map_err(anyhow::Error::from) {
                    first_error.get_or_insert(err);
                }
            }
            first_error
        })
        .await;
        let report = self.relay.dispatcher.shutdown(Duration::from_secs(1)).await;
        if finished.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
        leases::release_all(&self.relay).await;
        if let Err(err) = self.relay.store.close().await {
            tracing::warn!(error = %format!("{err:#}"), "closing the store");
        }
        // Another relay may serve this database from now on.
        self.relay.release_instance_lock();
        match finished {
            Ok(None) => {
                tracing::info!(cancelled_listeners = report.cancelled, "kick-relay stopped");
                Ok(())
            }
            Ok(Some(err)) => Err(err),
            Err(_) => {
                tracing::warn!(
                    ?deadline,
                    "shutdown deadline passed; unfinished sends stay pending and are retried at the next start"
                );
                Ok(())
            }
        }
    }
}

/// Applies `storage.retention_days` at start and then hourly, until shutdown, on the replica
/// holding the purge's lease.
async fn purge_periodically(relay: &Relay) {
    let retention_ms = relay.config.storage.retention_ms();
    loop {
        let before = relay.clock.now_ms().saturating_sub(retention_ms);
        let held = relay
            .singleton(lease::PURGE)
            .is_some_and(lease::Lease::is_held);
        if held && let Err(err) = relay.store.purge(before).await {
            tracing::warn!(error = %format!("{err:#}"), "retention purge failed; will try again");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_hours(1)) => {}
            () = relay.stopping.cancelled() => return,
        }
    }
}

/// Keeps each output's `disabled` flag in step with the store until shutdown: an operator's
/// `outputs disable` stops its worker and makes new deliveries skipped; `outputs enable` wakes
/// it again.
async fn watch_output_state(relay: &Relay) {
    loop {
        match relay.store.disabled_outputs().await {
            Ok(disabled) => {
                for output in &relay.outputs {
                    let name = output.sink.name();
                    let now_disabled = disabled.contains(name);
                    if output.disabled.swap(now_disabled, Ordering::AcqRel) != now_disabled {
                        if now_disabled {
                            tracing::warn!(output = %name, "output disabled in the store; its deliveries are skipped until `kick-relay outputs enable {name}`");
                        } else {
                            tracing::info!(output = %name, "output re-enabled");
                        }
                        output.wake.notify_one();
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "cannot read the outputs' state; will try again");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(OUTPUT_STATE_POLL) => {}
            () = relay.stopping.cancelled() => return,
        }
    }
}

/// Binds both listeners and starts serving and delivering.
///
/// # Errors
/// A listener that cannot bind.
pub async fn start(relay: Arc<Relay>) -> anyhow::Result<Running> {
    let server = &relay.config.server;
    let public = TcpListener::bind(server.listen)
        .await
        .with_context(|| format!("cannot listen on server.listen = {}", server.listen))?;
    let admin_listener = TcpListener::bind(relay.config.admin.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on admin.listen = {}",
                relay.config.admin.listen
            )
        })?;
    let public_addr = public.local_addr()?;
    let admin_addr = admin_listener.local_addr()?;
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let app = ingest::router(Arc::clone(&relay));
    let stopped = stop.clone();
    let limits = Limits {
        header_timeout: Duration::from_secs(relay.config.server.header_timeout_secs),
        max_connections: relay.config.server.max_connections,
    };
    let drain = Duration::from_secs(relay.config.server.shutdown_timeout_secs);
    tasks.spawn(async move {
        crate::serve::serve(public, app, limits, stopped, drain).await;
        Ok(())
    });
    let admin_app = admin::router(Arc::clone(&relay));
    let stopped = stop.clone();
    let admin_limits = Limits {
        max_connections: ADMIN_MAX_CONNECTIONS,
        header_timeout: limits.header_timeout.min(ADMIN_HEADER_TIMEOUT),
    };
    tasks.spawn(async move {
        crate::serve::serve(admin_listener, admin_app, admin_limits, stopped, drain).await;
        Ok(())
    });
    // Take what is free before the workers start (on SQLite: everything).
    leases::renew_all(&relay).await;
    let keeping = Arc::clone(&relay);
    tasks.spawn(async move {
        leases::keep(keeping).await;
        Ok(())
    });
    let listening = Arc::clone(&relay);
    tasks.spawn(async move {
        leases::wake_on_announcements(listening).await;
        Ok(())
    });
    for index in 0..relay.outputs.len() {
        let relay = Arc::clone(&relay);
        tasks.spawn(async move {
            delivery::run(relay, index).await;
            Ok(())
        });
    }
    let purging = Arc::clone(&relay);
    tasks.spawn(async move {
        purge_periodically(&purging).await;
        Ok(())
    });
    let reconciling = Arc::clone(&relay);
    tasks.spawn(async move {
        reconciler::run(reconciling).await;
        Ok(())
    });
    let watching = Arc::clone(&relay);
    tasks.spawn(async move {
        watch_output_state(&watching).await;
        Ok(())
    });
    let workers_stop = relay.stopping.clone();
    let stopped = stop.clone();
    tasks.spawn(async move {
        stopped.cancelled().await;
        workers_stop.cancel();
        Ok(())
    });
    tracing::info!(
        public = %public_addr,
        webhook_path = %relay.config.server.webhook_path,
        admin = %admin_addr,
        outputs = relay.outputs.len(),
        key = %relay.keys.current().fingerprint_hex(),
        started_at_ms = relay.clock.now_ms(),
        version = crate::version::VERSION,
        "kick-relay listening"
    );
    Ok(Running {
        public_addr,
        admin_addr,
        stop,
        tasks,
        relay,
    })
}
