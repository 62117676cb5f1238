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
mod chaos;
mod chaos_pg;
mod discord_lag;
mod harness;
mod hostile;
mod instructions;
mod load;
mod orchestrate;
mod postgres;
mod presign;
mod stand_in;
mod util;

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
    /// A Discord output against a stand-in with Discord's limits: steady chat then a raid, and
    /// a chat faster than Discord; prints a Markdown report (and writes it to `--out`).
    Discord {
        /// Seconds of chat in each scenario (issue 13 uses 60).
        #[arg(long, default_value_t = 60)]
        secs: u64,
        /// Also write the report here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
    /// A 200-answering stand-in for the relay's outputs (`/raw`, `/discord`), for profiling by
    /// hand.
    StandIn {
        /// Listen address.
        #[arg(long)]
        listen: std::net::SocketAddr,
    },
    /// Load one URL with a pre-signed set (for profiling a target by hand).
    Load {
        /// The webhook URL.
        #[arg(long)]
        url: String,
        /// A pre-signed set (`mixed-N.jsonl` / `chat-N.jsonl` in the work directory).
        #[arg(long)]
        set: PathBuf,
        /// Connections.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Measured seconds (after a 1 s warm-up).
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Open loop at this many requests per second in all (default: closed loop).
        #[arg(long)]
        rate: Option<f64>,
    },
    /// Kill the relay at random moments under load (kill -9, then SIGTERM), restart it, and
    /// check every acknowledged event reached the output; writes docs/RELIABILITY.md.
    Chaos {
        /// The release `kick-relay` binary.
        #[arg(long)]
        relay_bin: PathBuf,
        /// Working directory.
        #[arg(long, value_parser = absolute_path)]
        work: PathBuf,
        /// The report to update.
        #[arg(long)]
        report: PathBuf,
        /// How many kill -9 rounds.
        #[arg(long, default_value_t = 20)]
        kills: usize,
        /// Only the hostile-load phase (memory bound), no kills.
        #[arg(long)]
        hostile_only: bool,
        /// Two replicas on a throwaway PostgreSQL instead (kills, then PostgreSQL restarted).
        #[arg(long)]
        postgres: bool,
    },
    /// Ingest on PostgreSQL next to SQLite, and two replicas, on one pinned core; prints a
    /// Markdown section (and writes it to `--out`).
    Postgres {
        /// The release `kick-relay` binary.
        #[arg(long)]
        relay_bin: PathBuf,
        /// Working directory (keys, pre-signed requests, databases).
        #[arg(long, value_parser = absolute_path)]
        work: PathBuf,
        /// Measured seconds per row.
        #[arg(long, default_value_t = 8)]
        secs: u64,
        /// Also write the report here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Instructions per event of the ingest path and of one delivery, counted by callgrind;
    /// prints a Markdown section (and writes it to `--out`).
    Instructions {
        /// The release `kick-relay` binary.
        #[arg(long)]
        relay_bin: PathBuf,
        /// Working directory (keys, pre-signed requests, databases).
        #[arg(long, value_parser = absolute_path)]
        work: PathBuf,
        /// Events in the shorter run.
        #[arg(long, default_value_t = 200)]
        small: usize,
        /// Events in the longer run.
        #[arg(long, default_value_t = 1200)]
        large: usize,
        /// Also write the report here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run every target at concurrency 1, 16 and 64; add the report to `--report`
    /// (docs/benchmarks/RUNS.md) and show it as the newest run on `--summary`
    /// (docs/BENCHMARKS.md).
    All {
        /// Short runs for development.
        #[arg(long)]
        quick: bool,
        /// The release `kick-relay` binary.
        #[arg(long)]
        relay_bin: PathBuf,
        /// Working directory (keys, pre-signed requests, databases).
        #[arg(long, value_parser = absolute_path)]
        work: PathBuf,
        /// The run log the report is added to, newest first.
        #[arg(long)]
        report: PathBuf,
        /// A page whose `<!-- newest run -->` … `<!-- end of newest run -->` block the report
        /// replaces.
        #[arg(long)]
        summary: Option<PathBuf>,
        /// `bench/peers/kickpy` (kickcom.py's set-up and server scripts).
        #[arg(long)]
        kickpy: PathBuf,
        /// Extra text for the report (e.g. criterion results).
        #[arg(long)]
        extra: Option<PathBuf>,
    },
}

/// A `--work` folder as an absolute path: the relay configs written there name their files
/// through it, and the relay reads a relative path from the config's own folder.
fn absolute_path(arg: &str) -> Result<PathBuf, String> {
    std::path::absolute(arg).map_err(|err| format!("{arg}: {err}"))
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
        Command::StandIn { listen } => runtime.block_on(async {
            let (addr, _) = stand_in::start(listen).await?;
            println!("stand-in on http://{addr}/raw and http://{addr}/discord");
            std::future::pending::<()>().await;
            Ok(())
        }),
        Command::Load {
            url,
            set,
            concurrency,
            seconds,
            rate,
        } => runtime.block_on(load::from_file(&url, &set, concurrency, seconds, rate)),
        Command::Discord { secs, out } => runtime.block_on(async {
            let report = discord_lag::run(secs).await?;
            print!("{report}");
            if let Some(out) = out {
                std::fs::write(&out, &report)?;
            }
            Ok(())
        }),
        Command::Chaos {
            relay_bin,
            work,
            report,
            kills,
            hostile_only,
            postgres,
        } => {
            let options = chaos::Options {
                relay_bin,
                work,
                report,
                kills,
                hostile_only,
            };
            if postgres {
                runtime.block_on(chaos_pg::run(&options))
            } else {
                runtime.block_on(chaos::run(options))
            }
        }
        Command::Postgres {
            relay_bin,
            work,
            secs,
            out,
        } => runtime.block_on(postgres::run(postgres::Options {
            relay_bin,
            work,
            secs,
            out,
        })),
        Command::Instructions {
            relay_bin,
            work,
            small,
            large,
            out,
        } => runtime.block_on(instructions::run(instructions::Options {
            relay_bin,
            work,
            counts: (small, large),
            out,
        })),
        Command::All {
            quick,
            relay_bin,
            work,
            report,
            summary,
            kickpy,
            extra,
        } => runtime.block_on(orchestrate::all(orchestrate::Options {
            quick,
            relay_bin,
            work,
            report,
            summary,
            kickpy,
            extra,
        })),
    }
}
