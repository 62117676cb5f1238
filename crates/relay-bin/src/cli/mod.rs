//! The `kick-relay` command line: the arguments (`args`), then one module per command.

#![allow(clippy::print_stdout)] // a command-line tool reports on stdout

mod args;
mod deliveries;
mod healthcheck;
mod keygen;
mod outputs;
mod send_test;
mod serve;
mod subscriptions;
mod verify;

use std::process::ExitCode;

use anyhow::bail;
use clap::Parser;

pub use self::args::{
    Cli, Command, DeliveriesAction, LogFormat, OutputsAction, SubscriptionAction, VERSION,
};
use crate::{
    config::{Config, Source},
    store::{Store, database_file, is_postgres_url},
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
            eprintln!("kick-relay: {}", error_chain(&err));
            if err.downcast_ref::<crate::config::ConfigProblem>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `err` and its causes joined by `: `, leaving out a cause that only repeats the text before
/// it (database drivers' errors carry the database's message and have it again as their
/// source).
fn error_chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if text.ends_with(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
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
        Command::Verify { key, headers, body } => {
            verify::verify(key.as_deref(), cli.config.as_deref(), &headers, &body)
        }
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
        Command::Deliveries {
            action: DeliveriesAction::Show { id },
        } => deliveries::show(cli.config.as_deref(), id).await,
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
        Command::Healthcheck { url, timeout_secs } => {
            healthcheck::healthcheck(
                cli.config.as_deref(),
                url.as_deref(),
                std::time::Duration::from_secs(timeout_secs.max(1)),
            )
            .await
        }
    }
}

pub(crate) fn describe(source: &Source) -> String {
    match source {
        Source::Defaults => "built-in defaults".into(),
        Source::File(path) => path.display().to_string(),
    }
}

/// Opens the database a relay with `config` serves, for an operator command: a SQLite file
/// must exist already (a command run from another folder must not act on a new, empty
/// database while the relay goes on with its own), and the file used is named on stderr.
pub(crate) async fn open_store(config: &Config, source: &Source) -> anyhow::Result<Store> {
    let url = &config.storage.database_url;
    if !is_postgres_url(url)
        && let Some(path) = database_file(url)
    {
        let path = std::path::absolute(&path).unwrap_or(path);
        if let Some(problem) = config.storage.left_in_working_directory() {
            bail!(problem);
        }
        if !path.is_file() {
            bail!(
                "no relay database at {}: commands other than `serve` only open a database a relay created. {}",
                path.display(),
                where_the_database_comes_from(source)
            );
        }
        eprintln!("kick-relay: database {}", path.display());
    }
    Store::open(url, config.storage.synchronous).await
}

/// Where `storage.database_url` came from, and how to point a command at the relay's own.
fn where_the_database_comes_from(source: &Source) -> String {
    if std::env::var_os("KICK_RELAY_DATABASE_URL").is_some() {
        return "KICK_RELAY_DATABASE_URL names it (a relative path is relative to the working directory)".into();
    }
    match source {
        Source::Defaults => "Without --config (or KICK_RELAY_CONFIG) the database is kick-relay.db in the working directory: run the command where the relay runs, or pass the relay's --config".into(),
        Source::File(file) => format!(
            "{} names it (unset: kick-relay.db in the working directory; a relative path written in the file is relative to the file's folder): pass the relay's own --config, or run the command where the relay runs",
            file.display()
        ),
    }
}
