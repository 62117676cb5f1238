//! `relay-bench`: what `cargo xtask bench` runs. Subcommands: `ceiling` (the minimal verifying
//! server), and `all` (pre-sign, start each target fresh, load it, report).

#![allow(clippy::print_stdout)]
// a benchmark tool reports on stdout
// Statistics over counts and durations: float conversions are the point and stay far from the
// limits where they lose anything that matters.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

mod ceiling;
mod load;
mod orchestrate;
mod presign;
mod stand_in;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Benchmarks for kick-relay.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The ceiling: verify the signature with the fast backend and answer 200, nothing else.
    Ceiling {
        /// Listen address.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Public key PEM.
        #[arg(long)]
        key: PathBuf,
        /// Webhook path.
        #[arg(long, default_value = "/webhooks/kick")]
        path: String,
    },
    /// Run every target at concurrency 1, 16 and 64 and write docs/BENCHMARKS.md.
    All {
        /// Short runs for development.
        #[arg(long)]
        quick: bool,
        /// The release `kick-relay` binary.
        #[arg(long)]
        relay_bin: PathBuf,
        /// Working directory (keys, pre-signed requests, databases).
        #[arg(long)]
        work: PathBuf,
        /// The report to update.
        #[arg(long)]
        report: PathBuf,
        /// `../shared/peers/kickpy` (kickcom.py's scripts).
        #[arg(long)]
        kickpy: PathBuf,
        /// Extra text for the report (e.g. criterion results).
        #[arg(long)]
        extra: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Ceiling { listen, key, path } => {
            runtime.block_on(ceiling::serve(listen, &key, &path))
        }
        Command::All {
            quick,
            relay_bin,
            work,
            report,
            kickpy,
            extra,
        } => runtime.block_on(orchestrate::all(orchestrate::Options {
            quick,
            relay_bin,
            work,
            report,
            kickpy,
            extra,
        })),
    }
}
