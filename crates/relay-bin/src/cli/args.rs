//! What `kick-relay` takes on its command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use crate::version::VERSION;

/// Receives Kick.com webhooks, verifies them, stores each once and relays it to Discord, raw
/// JSON webhooks and other Kick consumers.
#[derive(Debug, Parser)]
#[command(name = "kick-relay", version = VERSION)]
pub struct Cli {
    /// Configuration file (TOML). Without one, the built-in defaults are used.
    #[arg(long, short, global = true, env = "KICK_RELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay.
    Serve {
        /// Start with an empty database where the SQLite database is missing (or was replaced)
        /// but files beside it say one was served before: its undelivered events and memory of
        /// message ids are given up (stale -wal/-shm files are moved aside, not applied).
        #[arg(long)]
        start_empty: bool,
    },
    /// Check the configuration and exit.
    CheckConfig,
    /// Write a local RSA key pair (private.pem, public.pem) for development.
    Keygen {
        /// Directory to write into (created if missing; existing keys are not overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign Kick-shaped sample events and POST them to a relay.
    SendTest {
        /// The relay's webhook URL, e.g. `http://127.0.0.1:3000/webhooks/kick`.
        #[arg(long)]
        url: String,
        /// Private key (PKCS#8 PEM) to sign with; the relay must trust its public half.
        #[arg(long)]
        key: PathBuf,
        /// Event type.
        #[arg(long, default_value = "chat.message.sent", value_parser = event_types())]
        event: String,
        /// How many events to send.
        #[arg(long, default_value_t = 1)]
        count: u64,
    },
    /// Check a captured delivery offline.
    Verify {
        /// Public key PEM (default: `kick.public_key_file` of `--config`, else Kick's
        /// published key).
        #[arg(long)]
        key: Option<PathBuf>,
        /// File with the request headers, one `Name: value` per line.
        #[arg(long)]
        headers: PathBuf,
        /// File with the raw body.
        #[arg(long)]
        body: PathBuf,
    },
    /// Manage Kick event subscriptions (needs the app's client id and secret).
    Subscriptions {
        /// What to do.
        #[command(subcommand)]
        action: SubscriptionAction,
    },
    /// Inspect deliveries.
    Deliveries {
        /// What to do.
        #[command(subcommand)]
        action: DeliveriesAction,
    },
    /// Queue finished deliveries of an output again (e.g. dead letters after a fix).
    Replay {
        /// The output.
        #[arg(long)]
        output: String,
        /// Only deliveries created at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only deliveries created before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Which deliveries (`delivered` sends delivered ones again).
        #[arg(long, default_value = "dead", value_parser = statuses())]
        status: String,
    },
    /// List, enable or disable outputs.
    Outputs {
        /// What to do.
        #[command(subcommand)]
        action: OutputsAction,
    },
    /// Ask a running relay whether it is ready (its admin listener's `/readyz`): exit 0 if
    /// so, 1 with the reason if not (for a container's HEALTHCHECK or a script).
    Healthcheck {
        /// The URL to ask instead of the configuration's `admin.listen` (e.g.
        /// `http://127.0.0.1:9091/readyz`).
        #[arg(long)]
        url: Option<String>,
        /// How long to wait for the answer, seconds.
        #[arg(long, default_value_t = 5)]
        timeout_secs: u64,
    },
}

/// `subscriptions …`.
#[derive(Debug, Subcommand)]
pub enum SubscriptionAction {
    /// List the app's subscriptions.
    List,
    /// Subscribe a broadcaster to events.
    Create {
        /// The broadcaster's user id.
        broadcaster_user_id: u64,
        /// Event types.
        #[arg(required = true)]
        events: Vec<String>,
    },
    /// Delete subscriptions by id.
    Delete {
        /// Subscription ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Make Kick's subscriptions match the config's `[[subscription]]` entries: create missing
    /// ones, remove duplicates.
    Sync,
}

/// `deliveries …`.
#[derive(Debug, Subcommand)]
pub enum DeliveriesAction {
    /// List deliveries, newest first.
    List {
        /// Only this output.
        #[arg(long)]
        output: Option<String>,
        /// Only this status.
        #[arg(long, value_parser = statuses())]
        status: Option<String>,
        /// At most this many (1 to 1000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
    },
    /// One delivery with its history and the event it carries.
    Show {
        /// The delivery's id (the first column of `deliveries list`).
        id: i64,
    },
}

/// `outputs …`.
#[derive(Debug, Subcommand)]
pub enum OutputsAction {
    /// List configured outputs with their state and counts.
    List,
    /// Re-enable an output disabled after a 401/403/404/410.
    Enable {
        /// The output.
        name: String,
    },
    /// Stop sending to an output (its pending and new deliveries are kept as skipped).
    Disable {
        /// The output.
        name: String,
    },
}

/// Kick's event types, for `send-test --event` (listed in `--help` and completed).
fn event_types() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        kick_models::EventType::KNOWN
            .iter()
            .map(|t| clap::builder::PossibleValue::new(t.as_str().to_owned())),
    )
}

/// Delivery statuses, for `--status` (listed in `--help` and completed).
fn statuses() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::store::Status::ALL.map(crate::store::Status::as_str),
    )
}
