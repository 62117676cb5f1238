//! `kick-relay.toml`: parsing, defaults, environment overrides and validation with the key and
//! line of every mistake.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use relay_sinks::SinkKind;
use serde::Deserialize;

pub use crate::store::Synchronous;

mod env;
mod output;
mod validate;

pub use self::output::{Kind as OutputKind, Output};

use self::env::expand_value;
use toml::Spanned;

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The public listener (Kick's webhooks).
    #[serde(default)]
    pub server: ServerConfig,
    /// The admin listener (health, metrics).
    #[serde(default)]
    pub admin: AdminConfig,
    /// Kick: key and API credentials.
    #[serde(default)]
    pub kick: KickConfig,
    /// The store (SQLite or PostgreSQL).
    #[serde(default)]
    pub storage: StorageConfig,
    /// The `[[output]]` tables as written (with their lines, for messages).
    #[serde(default, rename = "output")]
    pub output_tables: Vec<OutputConfig>,
    /// The outputs, parsed and checked from `output_tables` by [`Config::load`].
    #[serde(skip)]
    pub outputs: Vec<Output>,
    /// Subscriptions `kick-relay subscriptions sync` keeps at Kick (`[[subscription]]`).
    #[serde(default, rename = "subscription")]
    pub subscriptions: Vec<SubscriptionConfig>,
}

/// `[server]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the public listener.
    #[serde(deserialize_with = "socket_addr")]
    pub listen: SocketAddr,
    /// Path Kick posts to.
    pub webhook_path: String,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// A strict window: how far `Kick-Event-Message-Timestamp` may be from now, both ways;
    /// 0 turns the check off. Unset (the default): [`Config::freshness`] keeps late deliveries
    /// for as long as the duplicate memory covers them.
    pub timestamp_tolerance_secs: Option<u64>,
    /// How long shutdown may take to finish requests and sends.
    pub shutdown_timeout_secs: u64,
    /// How long a client may take to send the body (slow or endless bodies get 408).
    pub body_timeout_secs: u64,
    /// How long a client may take to send a request's headers before the connection is closed.
    pub header_timeout_secs: u64,
    /// Open connections served at once; further connections wait in the kernel's backlog.
    pub max_connections: usize,
    /// Bodies over 16 KiB held in memory at once, in bytes (each such request reserves its
    /// `Content-Length`, or `max_body_bytes` without one); a request that does not fit gets 503.
    pub max_buffered_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            webhook_path: "/webhooks/kick".into(),
            max_body_bytes: 1024 * 1024,
            timestamp_tolerance_secs: None,
            shutdown_timeout_secs: 20,
            body_timeout_secs: 10,
            header_timeout_secs: 10,
            max_connections: 1024,
            max_buffered_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A listener's address: an IP address and a port. A host name is refused with what to
/// write instead (it would have to be resolved, and `localhost` may name several addresses).
fn socket_addr<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        let hint = match text.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() && host.eq_ignore_ascii_case("localhost") => {
                format!(" (write 127.0.0.1:{port}, or [::1]:{port} for IPv6)")
            }
            Some((_, port)) if port.parse::<u16>().is_ok() => {
                " (a host name is not resolved: write its IP address, e.g. 0.0.0.0 for every interface)".to_owned()
            }
            _ => " (an IP address and a port, e.g. 127.0.0.1:3000)".to_owned(),
        };
        serde::de::Error::custom(format!("{text:?} is not an IP address and port{hint}"))
    })
}

/// `[admin]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin listener; keep it private.
    #[serde(deserialize_with = "socket_addr")]
    pub listen: SocketAddr,
    /// The token that admin actions (and, off loopback, every admin page) need.
    pub token: Option<String>,
    /// Names besides loopback addresses and `localhost` the admin listener may be reached by
    /// where reads are open (a `Host` header naming anything else is refused: DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// Mark the session cookie `Secure` (the admin page is reached over HTTPS, through a
    /// TLS-terminating proxy).
    pub secure_cookie: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9091)),
            token: None,
            allowed_hosts: Vec::new(),
            secure_cookie: false,
        }
    }
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("secure_cookie", &self.secure_cookie)
            .finish()
    }
}

/// Shortest admin token accepted.
const MIN_ADMIN_TOKEN: usize = 16;

/// `[kick]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KickConfig {
    /// A PEM file with Kick's key; default: the published key, built in.
    pub public_key_file: Option<PathBuf>,
    /// The app's client id (or `KICK_CLIENT_ID`).
    pub client_id: Option<String>,
    /// The app's client secret (or `KICK_CLIENT_SECRET`).
    pub client_secret: Option<String>,
    /// REST base URL.
    pub api_base_url: String,
    /// OAuth base URL.
    pub oauth_base_url: String,
    /// Fetch Kick's key from the API when a signature fails (at most once a minute).
    pub refresh_public_key: bool,
    /// How often `serve` makes Kick's subscriptions match `[[subscription]]` (with the app's
    /// credentials; one replica does it); 0 turns it off.
    pub reconcile_interval_secs: u64,
}

impl Default for KickConfig {
    fn default() -> Self {
        Self {
            public_key_file: None,
            client_id: None,
            client_secret: None,
            api_base_url: "https://api.kick.com".into(),
            oauth_base_url: "https://id.kick.com".into(),
            refresh_public_key: true,
            reconcile_interval_secs: 300,
        }
    }
}

impl fmt::Debug for KickConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KickConfig")
            .field("public_key_file", &self.public_key_file)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("api_base_url", &self.api_base_url)
            .field("oauth_base_url", &self.oauth_base_url)
            .finish_non_exhaustive()
    }
}

/// How far in the future `Kick-Event-Message-Timestamp` may lie by default: a timestamp ahead
/// of the relay's clock only means one of the clocks is off.
pub const MAX_AHEAD: Duration = Duration::from_mins(5);
/// What the default window keeps between its oldest timestamp and the duplicate memory's end:
/// room for clocks that differ between Kick and the replicas, and for the purge's schedule.
pub const REPLAY_MARGIN: Duration = Duration::from_hours(1);

impl Config {
    /// The window a delivery's timestamp must fall in (`None`: not checked).
    ///
    /// By default it reaches as far into the past as the duplicate memory can answer for: an
    /// event is remembered from its arrival until `retention_days` later, and its timestamp
    /// lay at most [`MAX_AHEAD`] after that arrival, so a replay accepted under this window
    /// is always still remembered, and answered `duplicate`. Kick retries a failing URL for up
    /// to a day and has delivered hours late; those deliveries are kept. A set
    /// `server.timestamp_tolerance_secs` is a strict window both ways instead (validation keeps
    /// it inside the same bound).
    pub fn freshness(&self) -> Option<kick_verify::Window> {
        match self.server.timestamp_tolerance_secs {
            Some(0) => None,
            Some(secs) => Some(kick_verify::Window::symmetric(Duration::from_secs(secs))),
            None => Some(kick_verify::Window::new(
                self.storage.replay_safe_age(),
                MAX_AHEAD,
            )),
        }
    }
}

/// `[storage]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `sqlite://PATH` (created when missing), or `postgres://USER:PASSWORD@HOST/DB` for a
    /// database several replicas share (`KICK_RELAY_DATABASE_URL` overrides it).
    pub database_url: String,
    /// Days to keep inbox rows and finished deliveries.
    pub retention_days: u64,
    /// SQLite `synchronous`: `full` (default: durable against power loss) or `normal`
    /// (PostgreSQL's durability is the server's `synchronous_commit`).
    pub synchronous: Synchronous,
    /// Start with an empty SQLite database although files beside the missing one (or its
    /// marker) say one existed: `serve --start-empty`, never read from the file.
    #[serde(skip)]
    pub start_empty: bool,
    /// When `database_url` is a relative SQLite path written in the config file (and so
    /// resolved against the file's folder): the file the same path names in the working
    /// directory, where it was looked for before. A relay never starts on a new, empty
    /// database while that one exists; never read from the file.
    #[serde(skip)]
    pub in_working_directory: Option<PathBuf>,
}

impl StorageConfig {
    /// `retention_days` in milliseconds (saturating).
    pub fn retention_ms(&self) -> i64 {
        i64::try_from(self.retention_days.saturating_mul(86_400_000)).unwrap_or(i64::MAX)
    }

    /// Why the database `database_url` names must not be opened: it does not exist, while
    /// the same relative path names one in the working directory (where it was looked for
    /// before relative paths in the config file followed the file's folder).
    pub fn left_in_working_directory(&self) -> Option<String> {
        let resolved = crate::store::database_file(&self.database_url)?;
        let before = self.in_working_directory.as_ref()?;
        (!resolved.exists() && before.is_file() && *before != resolved).then(|| {
            format!(
                "storage.database_url names {}, which does not exist, but {} does: a relative database path in the config file is relative to the file's folder, not to the working directory. Set database_url = \"sqlite://{}\" to keep using that database",
                resolved.display(),
                before.display(),
                before.display()
            )
        })
    }

    /// The oldest a delivery's timestamp may be for the duplicate memory to still hold any
    /// earlier copy of it: `retention_days` less [`MAX_AHEAD`] and [`REPLAY_MARGIN`].
    pub fn replay_safe_age(&self) -> Duration {
        Duration::from_secs(self.retention_days.saturating_mul(86_400))
            .saturating_sub(MAX_AHEAD)
            .saturating_sub(REPLAY_MARGIN)
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            database_url: "sqlite://kick-relay.db".into(),
            retention_days: 7,
            synchronous: Synchronous::Full,
            start_empty: false,
            in_working_directory: None,
        }
    }
}

/// `[[output]]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Unique name (logs and metrics use it instead of the URL).
    pub name: Spanned<String>,
    /// `discord`, `raw` or `forward`.
    #[serde(rename = "type")]
    pub kind: SinkKind,
    /// Where to send; `${VAR}` reads an environment variable.
    pub url: Spanned<String>,
    /// Selected events (default: all).
    #[serde(default)]
    pub events: Option<Spanned<Vec<String>>>,
    /// Only these broadcasters.
    #[serde(default)]
    pub broadcaster_user_ids: Option<Spanned<Vec<u64>>>,
    /// Waits between attempts, seconds.
    #[serde(default)]
    pub retry_schedule_secs: Option<Spanned<Vec<Seconds>>>,
    /// Give up on events older than this.
    #[serde(default)]
    pub max_age_secs: Option<u64>,
    /// Standard Webhooks secret (raw only); `${VAR}` reads an environment variable.
    #[serde(default)]
    pub secret: Option<Spanned<String>>,
    /// Request timeout, seconds (default 15).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Requests in flight at once (raw and forward; default [`DEFAULT_MAX_IN_FLIGHT`]).
    /// Discord outputs always send one at a time, in order.
    #[serde(default)]
    pub max_in_flight: Option<Spanned<usize>>,
    /// Discord only: messages per minute the channel takes (Discord's hidden limit is 30);
    /// without it the limit is learned from Discord's first `shared` 429.
    #[serde(default)]
    pub max_messages_per_minute: Option<Spanned<u32>>,
    /// Discord only: chat waiting longer than this is folded into one "skipped" line
    /// (default [`DEFAULT_MAX_LAG_SECS`]; 0 never skips).
    #[serde(default)]
    pub max_lag_secs: Option<Spanned<u64>>,
}

impl fmt::Debug for OutputConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputConfig")
            .field("name", self.name.get_ref())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A number of seconds in the configuration: whole (`5`) or with a fraction (`0.25`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Seconds {
    /// Whole seconds.
    Whole(u64),
    /// Seconds with a fraction.
    Fraction(f64),
}

impl Seconds {
    /// As a duration; `None` for a negative, infinite or absurd (over a week) value.
    pub fn checked(self) -> Option<Duration> {
        match self {
            Self::Whole(secs) => (secs <= 7 * 86_400).then(|| Duration::from_secs(secs)),
            Self::Fraction(secs) => (secs.is_finite() && (0.0..=604_800.0).contains(&secs))
                .then(|| Duration::from_secs_f64(secs)),
        }
    }

    /// As a duration (validation refused the values [`Seconds::checked`] refuses).
    pub fn duration(self) -> Duration {
        self.checked().unwrap_or(Duration::ZERO)
    }
}

/// `[[subscription]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionConfig {
    /// The channel.
    pub broadcaster_user_id: u64,
    /// Kick event types.
    pub events: Spanned<Vec<String>>,
}

/// How far a Discord output's chat may fall behind before the oldest waiting lines are folded
/// into one "skipped" line, unless `max_lag_secs` says: long enough to carry a raid of a few
/// hundred messages whole (about 20 s at one message every 2 s), short enough that a chat
/// Discord cannot carry stays about a minute behind at worst.
pub const DEFAULT_MAX_LAG_SECS: u64 = 60;

/// Requests a raw or forward output has in flight at once unless `max_in_flight` says.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4;
/// Most requests in flight `max_in_flight` allows.
const MAX_IN_FLIGHT: usize = 64;

/// Default retry schedule, seconds: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h.
pub const DEFAULT_RETRY_SCHEDULE: [u64; 7] = [5, 30, 120, 600, 1800, 3600, 7200];

/// A config error: what, which key, which line.
#[derive(Debug)]
pub struct ConfigProblem(pub(crate) String);

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigProblem {}

/// Where the configuration came from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Built-in defaults (no file).
    Defaults,
    /// A file.
    File(PathBuf),
}

impl Config {
    /// Reads `path`, or returns the defaults when `path` is `None`. Relative paths written in
    /// the file (`kick.public_key_file`, a SQLite `storage.database_url`) are resolved against
    /// the file's folder; defaults and environment variables stay relative to the working
    /// directory. Applies `KICK_CLIENT_ID` / `KICK_CLIENT_SECRET` / `KICK_RELAY_DATABASE_URL`
    /// and validates.
    ///
    /// # Errors
    /// A message naming the file, the key and the line of the first problem.
    pub fn load(path: Option<&Path>) -> anyhow::Result<(Self, Source)> {
        let (mut config, source, text) = match path {
            None => (Self::default(), Source::Defaults, String::new()),
            Some(path) => {
                let text = read_config_file(path)?;
                let mut config = Self::parse(&path.display().to_string(), &text)?;
                config.resolve_paths(path, &text);
                (config, Source::File(path.to_owned()), text)
            }
        };
        if let Ok(id) = std::env::var("KICK_CLIENT_ID") {
            config.kick.client_id = Some(id);
        }
        if let Ok(secret) = std::env::var("KICK_CLIENT_SECRET") {
            config.kick.client_secret = Some(secret);
        }
        if let Ok(url) = std::env::var("KICK_RELAY_DATABASE_URL") {
            config.storage.database_url = url;
            config.storage.in_working_directory = None;
        }
        let file = match &source {
            Source::Defaults => "defaults".to_owned(),
            Source::File(path) => path.display().to_string(),
        };
        config.outputs = config.validate(&file, &text)?;
        Ok((config, source))
    }

    /// Resolves the relative paths written in the file `path` (whose `text` this is) against
    /// its folder.
    fn resolve_paths(&mut self, path: &Path, text: &str) {
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_owned());
        if let Some(key) = &mut self.kick.public_key_file
            && key.is_relative()
        {
            *key = folder.join(&*key);
        }
        let written = toml::from_str::<toml::Table>(text).is_ok_and(|table| {
            table
                .get("storage")
                .and_then(toml::Value::as_table)
                .is_some_and(|storage| storage.contains_key("database_url"))
        });
        if written
            && let Some((resolved, relative)) =
                resolve_sqlite_url(&self.storage.database_url, &folder)
        {
            self.storage.database_url = resolved;
            self.storage.in_working_directory = std::path::absolute(&relative).ok();
        }
    }

    /// Parses `text` (from `file`), with every `${VAR}` in every string value replaced by the
    /// variable's value.
    fn parse(file: &str, text: &str) -> Result<Self, ConfigProblem> {
        let toml_problem = |mut err: toml::de::Error| {
            err.set_input(Some(text));
            ConfigProblem(format!("{file}: {}", err.to_string().trim_end()))
        };
        let mut root = toml::de::DeTable::parse(text).map_err(toml_problem)?;
        for (key, value) in root.get_mut().iter_mut() {
            expand_value(value, key.get_ref(), &|span: std::ops::Range<usize>| {
                let line = text
                    .get(..span.start)
                    .map_or(1, |before| before.matches('\n').count() + 1);
                format!("{file}, line {line}")
            })?;
        }
        Self::deserialize(toml::de::Deserializer::from(root)).map_err(toml_problem)
    }
}

/// The text of the config file `path`; a file that cannot be read or is not UTF-8 is a
/// configuration problem, saying where.
fn read_config_file(path: &Path) -> Result<String, ConfigProblem> {
    let bytes = std::fs::read(path).map_err(|err| {
        ConfigProblem(format!(
            "cannot read config file {}: {err}{}",
            path.display(),
            if err.kind() == std::io::ErrorKind::NotFound {
                " (pass the path of an existing file with --config or KICK_RELAY_CONFIG; kick-relay.example.toml shows every key)"
            } else {
                ""
            }
        ))
    })?;
    String::from_utf8(bytes).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        let line = err.as_bytes()[..at].split(|b| *b == b'\n').count();
        ConfigProblem(format!(
            "{}, line {line}: the file is not UTF-8 text (byte {at}); save it as UTF-8",
            path.display()
        ))
    })
}

/// A `sqlite:` URL naming a relative path, made absolute against `folder`; with the relative
/// path. `None` for an absolute path, an in-memory database or another database.
fn resolve_sqlite_url(url: &str, folder: &Path) -> Option<(String, PathBuf)> {
    if crate::store::is_postgres_url(url) {
        return None;
    }
    let relative = crate::store::database_file(url).filter(|path| path.is_relative())?;
    let query = url.split_once('?').map(|(_, query)| query);
    let absolute = folder.join(&relative);
    let resolved = match query {
        Some(query) => format!("sqlite://{}?{query}", absolute.display()),
        None => format!("sqlite://{}", absolute.display()),
    };
    Some((resolved, relative))
}
