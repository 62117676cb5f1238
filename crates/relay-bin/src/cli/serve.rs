//! `kick-relay serve`: run the relay until SIGINT or SIGTERM.

use std::{path::Path, process::ExitCode};

use crate::{
    config::{Config, Source},
    relay::Relay,
    running,
};

pub(super) async fn serve(
    config_path: Option<&Path>,
    start_empty: bool,
) -> anyhow::Result<ExitCode> {
    let (mut config, source) = Config::load(config_path)?;
    config.storage.start_empty = start_empty;
    if matches!(source, Source::Defaults) {
        tracing::info!(
            "no configuration file: using the built-in defaults (database kick-relay.db in the working directory, Kick's published key, 127.0.0.1:3000, no outputs); pass --config or set KICK_RELAY_CONFIG"
        );
    }
    let relay = Relay::new(config).await?;
    let running = running::start(relay).await?;
    shutdown_signal().await;
    tracing::info!("shutting down: no new requests; finishing requests and sends");
    running.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
