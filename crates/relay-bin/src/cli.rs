//! The `kick-relay` command line.

#![allow(clippy::print_stdout)] // a command-line tool reports on stdout

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use kick_models::{EventType, UserId, WebhookHeaders, api::SubscribeRequest};
use kick_verify::{PublicKey, SignedMessage};

use crate::{
    clock,
    config::{Config, Source},
    relay::{self, Relay},
    samples,
    store::{Status, Store},
};

/// `kick-relay --version`: the crate version and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KICK_RELAY_GIT_COMMIT"),
    ")"
);

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
    Serve,
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
        /// Event type (default chat.message.sent).
        #[arg(long, default_value = "chat.message.sent")]
        event: String,
        /// How many events to send.
        #[arg(long, default_value_t = 1)]
        count: u64,
    },
    /// Check a captured delivery offline.
    Verify {
        /// Public key PEM (default: Kick's published key).
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
        /// Which deliveries (default dead).
        #[arg(long, default_value = "dead")]
        status: String,
    },
    /// List, enable or disable outputs.
    Outputs {
        /// What to do.
        #[command(subcommand)]
        action: OutputsAction,
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
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
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
        Command::Serve => serve(cli.config.as_deref()).await,
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
        Command::Keygen { out } => keygen(&out).map(|()| ExitCode::SUCCESS),
        Command::SendTest {
            url,
            key,
            event,
            count,
        } => send_test(&url, &key, &event, count).await,
        Command::Verify { key, headers, body } => verify(key.as_deref(), &headers, &body),
        Command::Subscriptions { action } => subscriptions(cli.config.as_deref(), action).await,
        Command::Deliveries {
            action:
                DeliveriesAction::List {
                    output,
                    status,
                    limit,
                },
        } => {
            let store = open_store(cli.config.as_deref()).await?;
            let status = status.map(|s| s.parse::<Status>()).transpose()?;
            for row in store.list(output.as_deref(), status, limit).await? {
                println!(
                    "{:>8}  {:<10} {:<20} {:<34} attempts={} {}{}",
                    row.id,
                    row.status,
                    row.output,
                    format!("{} {}", row.event_type, row.message_id),
                    row.attempts,
                    row.last_status
                        .map(|s| format!("last={s} "))
                        .unwrap_or_default(),
                    row.last_error.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            output,
            since,
            until,
            status,
        } => {
            let (config, _) = Config::load(cli.config.as_deref())?;
            if !config.outputs.iter().any(|o| *o.name.get_ref() == output) {
                bail!("no output named {output:?} in the configuration");
            }
            let store =
                Store::open(&config.storage.database_url, &config.storage.synchronous).await?;
            let status: Status = status.parse()?;
            let parse = |t: Option<String>| -> anyhow::Result<Option<i64>> {
                t.map(|t| {
                    kick_models::Timestamp::parse(&t)
                        .map(|ts| i64::try_from(ts.unix_nanos() / 1_000_000).unwrap_or(0))
                        .with_context(|| format!("{t:?} is not an RFC 3339 time"))
                })
                .transpose()
            };
            let n = store
                .replay(
                    &output,
                    status,
                    parse(since)?,
                    parse(until)?,
                    clock::now_ms(),
                )
                .await?;
            println!(
                "queued {n} {} deliveries of {output} again",
                status.as_str()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Outputs { action } => outputs(cli.config.as_deref(), action).await,
    }
}

fn describe(source: &Source) -> String {
    match source {
        Source::Defaults => "built-in defaults".into(),
        Source::File(path) => path.display().to_string(),
    }
}

async fn serve(config_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (config, source) = Config::load(config_path)?;
    if matches!(source, Source::Defaults) {
        tracing::info!(
            "no configuration file: using the built-in defaults (database kick-relay.db in the working directory, Kick's published key, 127.0.0.1:3000, no outputs); pass --config or set KICK_RELAY_CONFIG"
        );
    }
    let relay = Relay::new(config).await?;
    let running = relay::start(relay).await?;
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

async fn open_store(config_path: Option<&Path>) -> anyhow::Result<Store> {
    let (config, _) = Config::load(config_path)?;
    Store::open(&config.storage.database_url, &config.storage.synchronous).await
}

fn keygen(out: &Path) -> anyhow::Result<()> {
    use rsa::{
        RsaPrivateKey,
        pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let private_path = out.join("private.pem");
    let public_path = out.join("public.pem");
    for path in [&private_path, &public_path] {
        if path.exists() {
            bail!("{} exists; not overwriting a key", path.display());
        }
    }
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .context("cannot generate an RSA key")?;
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the private key")?;
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .context("cannot encode the public key")?;
    write_private(&private_path, private.as_bytes())
        .with_context(|| format!("cannot write {}", private_path.display()))?;
    std::fs::write(&public_path, public)
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    println!(
        "wrote {} (readable by its owner only, 0600) and {}\nuse it with: [kick] public_key_file = \"{}\"  and  kick-relay send-test --key {}",
        private_path.display(),
        public_path.display(),
        public_path.display(),
        private_path.display()
    );
    Ok(())
}

/// Writes a new file readable and writable by its owner only (0600 on Unix), never replacing
/// an existing one.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

/// A random (version 4) UUID, as Kick's chat message ids are.
fn random_uuid() -> String {
    use std::fmt::Write as _;

    use rsa::rand_core::RngCore;
    let mut bytes = [0_u8; 16];
    rsa::rand_core::OsRng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// A 26-character Crockford Base32 id from the time and randomness (ULID-shaped).
fn ulid_like() -> String {
    use rsa::rand_core::RngCore;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut value = u128::try_from(clock::now_ms()).unwrap_or(0) << 80;
    let mut random = [0_u8; 10];
    rsa::rand_core::OsRng.fill_bytes(&mut random);
    let mut tail = [0_u8; 16];
    tail[6..].copy_from_slice(&random);
    value |= u128::from_be_bytes(tail);
    (0..26)
        .rev()
        .map(|i| char::from(ALPHABET[usize::try_from((value >> (i * 5)) & 31).unwrap_or(0)]))
        .collect()
}

async fn send_test(
    url: &str,
    key_path: &Path,
    event: &str,
    count: u64,
) -> anyhow::Result<ExitCode> {
    use base64::Engine as _;
    use rsa::{
        pkcs1v15::SigningKey,
        pkcs8::DecodePrivateKey,
        signature::{SignatureEncoding, Signer},
    };
    let event_type = EventType::from(event);
    if event_type.is_unknown() {
        bail!(
            "--event {event:?} is not a Kick event type; use one of: {}",
            EventType::KNOWN.map(|t| t.as_str().to_owned()).join(", ")
        );
    }
    let pem = std::fs::read_to_string(key_path)
        .with_context(|| format!("cannot read {}", key_path.display()))?;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).with_context(|| {
        format!(
            "{} is not a PKCS#8 RSA private key (kick-relay keygen writes one)",
            key_path.display()
        )
    })?;
    let signer = SigningKey::<sha2::Sha256>::new(key);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut failures = 0;
    for n in 0..count {
        let now = clock::rfc3339(clock::now());
        let body = serde_json::to_vec(
            &samples::body(&event_type, n, &random_uuid(), &now)
                .context("no sample for this event")?,
        )?;
        let message_id = ulid_like();
        let signing_input = [message_id.as_bytes(), b".", now.as_bytes(), b".", &body].concat();
        let signature =
            base64::engine::general_purpose::STANDARD.encode(signer.sign(&signing_input).to_vec());
        let response = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Kick-Event-Message-Id", &message_id)
            .header("Kick-Event-Subscription-Id", "01TESTSUBSCRIPTION00000000")
            .header("Kick-Event-Signature", signature)
            .header("Kick-Event-Message-Timestamp", &now)
            .header("Kick-Event-Type", event_type.as_str())
            .header("Kick-Event-Version", "1")
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                println!(
                    "{message_id} {event_type}: {} {}",
                    status.as_u16(),
                    text.trim()
                );
                if !status.is_success() {
                    failures += 1;
                }
            }
            Err(err) => {
                println!("{message_id} {event_type}: {}", err.without_url());
                failures += 1;
            }
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn verify(key: Option<&Path>, headers_path: &Path, body_path: &Path) -> anyhow::Result<ExitCode> {
    let key = match key {
        Some(path) => PublicKey::from_pem(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{}", path.display()))?,
        None => PublicKey::kick()?,
    };
    let text = std::fs::read_to_string(headers_path)
        .with_context(|| format!("cannot read {}", headers_path.display()))?;
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let headers =
        WebhookHeaders::from_pairs(pairs).with_context(|| format!("{}", headers_path.display()))?;
    let body =
        std::fs::read(body_path).with_context(|| format!("cannot read {}", body_path.display()))?;
    let signed = SignedMessage {
        message_id: &headers.meta.message_id,
        timestamp: headers.meta.timestamp.as_str(),
        body: &body,
        signature_b64: &headers.signature,
    };
    match key.verify(&signed) {
        Ok(()) => {
            println!(
                "valid: {} {} signed by key {}",
                headers.meta.event_type,
                headers.meta.message_id,
                key.fingerprint_hex()
            );
            match kick_models::KickEvent::from_parts(
                &headers.meta.event_type,
                &headers.meta.version,
                &body,
            ) {
                Ok(_) => println!(
                    "body parses as {} v{}",
                    headers.meta.event_type, headers.meta.version
                ),
                Err(err) => println!("body does not parse: {err}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("INVALID: {err} (key {})", key.fingerprint_hex());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn api_client(config: &Config) -> anyhow::Result<kick_api::KickClient> {
    let (Some(id), Some(secret)) = (&config.kick.client_id, &config.kick.client_secret) else {
        bail!(
            "set kick.client_id and kick.client_secret in the config, or KICK_CLIENT_ID and KICK_CLIENT_SECRET"
        );
    };
    Ok(kick_api::KickClient::builder()
        .api_base_url(&config.kick.api_base_url)
        .oauth_base_url(&config.kick.oauth_base_url)
        .credentials(id.clone(), secret.as_str())
        .build()?)
}

async fn subscriptions(
    config_path: Option<&Path>,
    action: SubscriptionAction,
) -> anyhow::Result<ExitCode> {
    let (config, _) = Config::load(config_path)?;
    let client = api_client(&config)?;
    let app = client.app();
    match action {
        SubscriptionAction::List => {
            for sub in app.subscriptions(None).await? {
                println!(
                    "{}  {:<34} v{}  broadcaster {}  created {}",
                    sub.id, sub.event, sub.version, sub.broadcaster_user_id, sub.created_at
                );
            }
        }
        SubscriptionAction::Create {
            broadcaster_user_id,
            events,
        } => {
            let events: Vec<EventType> =
                events.iter().map(|e| EventType::from(e.as_str())).collect();
            if let Some(unknown) = events.iter().find(|e| e.is_unknown()) {
                bail!("{unknown:?} is not a Kick event type");
            }
            report_created(
                app.subscribe(&SubscribeRequest::new(
                    Some(UserId(broadcaster_user_id)),
                    &events,
                ))
                .await?,
            );
        }
        SubscriptionAction::Delete { ids } => {
            app.unsubscribe(&ids).await?;
            println!("deleted {} subscription(s)", ids.len());
        }
        SubscriptionAction::Sync => {
            let existing = app.subscriptions(None).await?;
            let mut seen = std::collections::HashSet::new();
            let mut duplicates = Vec::new();
            let mut sorted = existing.clone();
            sorted.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
            for sub in &sorted {
                if !seen.insert((sub.broadcaster_user_id, sub.event.clone(), sub.version)) {
                    duplicates.push(sub.id.clone());
                }
            }
            for wanted in &config.subscriptions {
                let broadcaster = UserId(wanted.broadcaster_user_id);
                let missing: Vec<EventType> = wanted
                    .events
                    .get_ref()
                    .iter()
                    .map(|e| EventType::from(e.as_str()))
                    .filter(|e| !seen.contains(&(broadcaster, e.clone(), 1)))
                    .collect();
                if missing.is_empty() {
                    println!("broadcaster {broadcaster}: up to date");
                } else {
                    report_created(
                        app.subscribe(&SubscribeRequest::new(Some(broadcaster), &missing))
                            .await?,
                    );
                }
            }
            if !duplicates.is_empty() {
                app.unsubscribe(&duplicates).await?;
                println!(
                    "removed {} duplicate subscription(s): {}",
                    duplicates.len(),
                    duplicates.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_created(results: Vec<kick_models::api::SubscribeResult>) {
    for result in results {
        match (result.subscription_id, result.error) {
            (Some(id), _) => println!("{} v{}: subscribed ({id})", result.name, result.version),
            (None, error) => println!(
                "{} v{}: FAILED: {}",
                result.name,
                result.version,
                error.unwrap_or_default()
            ),
        }
    }
}

async fn outputs(config_path: Option<&Path>, action: OutputsAction) -> anyhow::Result<ExitCode> {
    let (config, _) = Config::load(config_path)?;
    let store = Store::open(&config.storage.database_url, &config.storage.synchronous).await?;
    let known = |name: &str| -> anyhow::Result<()> {
        if config.outputs.iter().any(|o| o.name.get_ref() == name) {
            Ok(())
        } else {
            bail!("no output named {name:?} in the configuration")
        }
    };
    match action {
        OutputsAction::List => {
            let counts_by_status = store.stats(clock::now_ms()).await?;
            for output in &config.outputs {
                let name = output.name.get_ref();
                let state = match store.output_disabled(name).await? {
                    Some(reason) => format!("DISABLED ({reason})"),
                    None => "enabled".into(),
                };
                let counts: Vec<String> = counts_by_status
                    .by_status
                    .iter()
                    .filter(|(o, _, _)| o == name)
                    .map(|(_, s, n)| format!("{s}={n}"))
                    .collect();
                println!(
                    "{name:<20} {:<8} {state}  {}",
                    format!("{:?}", output.kind).to_lowercase(),
                    counts.join(" ")
                );
            }
        }
        OutputsAction::Enable { name } => {
            known(&name)?;
            store.enable_output(&name, clock::now_ms()).await?;
            println!(
                "{name} enabled; skipped deliveries stay skipped until `kick-relay replay --output {name} --status skipped`"
            );
        }
        OutputsAction::Disable { name } => {
            known(&name)?;
            store
                .disable_output(&name, "disabled by operator", clock::now_ms())
                .await?;
            println!(
                "{name} disabled: a running relay stops sending to it within seconds; its pending and new deliveries are kept as skipped (`kick-relay outputs enable {name}`, then `kick-relay replay --output {name} --status skipped`)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
