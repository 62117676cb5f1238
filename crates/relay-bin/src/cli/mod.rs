//! The `kick-relay` command line: the arguments (`args`), then one module per command.

#![allow(clippy::print_stdout)] // a command-line tool reports on stdout

mod args;
mod deliveries;
mod keygen;
mod outputs;
mod send_test;
mod serve;
mod subscriptions;
mod verify;

use std::{path::Path, process::ExitCode};

use clap::Parser;

pub use self::args::{
    Cli, Command, DeliveriesAction, LogFormat, OutputsAction, SubscriptionAction, VERSION,
};
use crate::{
    config::{Config, Source},
    store::Store,
};

/// Runs the command line; the exit code says how it went (2: usage or configuration error).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kick-relay: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kick-relay: {err:#}");
            if err.downcast_ref::<crate::config::ConfigProblem>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { start_empty } => serve::serve(cli.config.as_deref(), start_empty).await,
        Command::CheckConfig => {
            let (config, source) = Config::load(cli.config.as_deref())?;
            crate::config::check_runnable(&config)?;
            println!(
                "{}: ok ({} outputs, {} subscriptions)",
                describe(&source),
                config.outputs.len(),
                config.subscriptions.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out } => keygen::keygen(&out).map(|()| ExitCode::SUCCESS),
        Command::SendTest {
            url,
            key,
            event,
            count,
        } => send_test::send_test(&url, &key, &event, count).await,
        Command::Verify { key, headers, body } => verify::verify(key.as_deref(), &headers, &body),
        Command::Subscriptions { action } => {
            subscriptions::subscriptions(cli.config.as_deref(), action).await
        }
        Command::Deliveries {
            action:
                DeliveriesAction::List {
                    output,
                    status,
                    limit,
                },
        } => {
            deliveries::list(
                cli.config.as_deref(),
                output.as_deref(),
                status.as_deref(),
                limit,
            )
            .await
        }
        Command::Replay {
            output,
            since,
            until,
            status,
        } => {
            deliveries::replay(
                cli.config.as_deref(),
                &output,
                &status,
                since.as_deref(),
                until.as_deref(),
            )
            .await
        }
        Command::Outputs { action } => outputs::outputs(cli.config.as_deref(), action).await,
    }
}

pub(crate) fn describe(source: &Source) -> String {
    match source {
        Source::Defaults => "built-in defaults".into(),
        Source::File(path) => path.display().to_string(),
    }
}

pub(crate) async fn open_store(config_path: Option<&Path>) -> anyhow::Result<Store> {
    let (config, _) = Config::load(config_path)?;
    Store::open(&config.storage.database_url, config.storage.synchronous).await
}
