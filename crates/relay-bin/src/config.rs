//! `kick-relay.toml`: parsing, defaults, environment overrides and validation with the key and
//! line of every mistake.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use kick_models::{EventType, UserId};
use relay_sinks::{EventFilter, SinkKind, WebhookSecret};
use serde::Deserialize;

pub use crate::store::Synchronous;
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
    /// The SQLite store.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Outputs (`[[output]]`).
    #[serde(default, rename = "output")]
    pub outputs: Vec<OutputConfig>,
    /// Subscriptions `kick-relay subscriptions sync` keeps at Kick (`[[subscription]]`).
    #[serde(default, rename = "subscription")]
    pub subscriptions: Vec<SubscriptionConfig>,
}

/// `[server]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the public listener.
    pub listen: SocketAddr,
    /// Path Kick posts to.
    pub webhook_path: String,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// Allowed distance of `Kick-Event-Message-Timestamp` from now; 0 turns the check off.
    pub timestamp_tolerance_secs: u64,
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
            timestamp_tolerance_secs: 600,
            shutdown_timeout_secs: 20,
            body_timeout_secs: 10,
            header_timeout_secs: 10,
            max_connections: 1024,
            max_buffered_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// `[admin]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin listener; keep it private.
    pub listen: SocketAddr,
    /// The token that admin actions (and, off loopback, every admin page) need.
    pub token: Option<String>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9091)),
            token: None,
        }
    }
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
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

/// `[storage]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `sqlite://PATH` (created when missing).
    pub database_url: String,
    /// Days to keep inbox rows and finished deliveries.
    pub retention_days: u64,
    /// SQLite `synchronous`: `full` (default: durable against power loss) or `normal`.
    pub synchronous: Synchronous,
}

impl StorageConfig {
    /// `retention_days` in milliseconds (saturating).
    pub fn retention_ms(&self) -> i64 {
        i64::try_from(self.retention_days.saturating_mul(86_400_000)).unwrap_or(i64::MAX)
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            database_url: "sqlite://kick-relay.db".into(),
            retention_days: 7,
            synchronous: Synchronous::Full,
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
    pub broadcaster_user_ids: Option<Vec<u64>>,
    /// Waits between attempts, seconds.
    #[serde(default)]
    pub retry_schedule_secs: Option<Spanned<Vec<u64>>>,
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
pub struct ConfigProblem(String);

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
    /// Reads `path`, or returns the defaults when `path` is `None`. Applies `KICK_CLIENT_ID` /
    /// `KICK_CLIENT_SECRET` and validates.
    ///
    /// # Errors
    /// A message naming the file, the key and the line of the first problem.
    pub fn load(path: Option<&Path>) -> anyhow::Result<(Self, Source)> {
        let (mut config, source, text) = match path {
            None => (Self::default(), Source::Defaults, String::new()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                let config = Self::parse(&path.display().to_string(), &text)?;
                (config, Source::File(path.to_owned()), text)
            }
        };
        if let Ok(id) = std::env::var("KICK_CLIENT_ID") {
            config.kick.client_id = Some(id);
        }
        if let Ok(secret) = std::env::var("KICK_CLIENT_SECRET") {
            config.kick.client_secret = Some(secret);
        }
        let file = match &source {
            Source::Defaults => "defaults".to_owned(),
            Source::File(path) => path.display().to_string(),
        };
        config.validate(&file, &text)?;
        Ok((config, source))
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

    /// Checks every value a type cannot.
    fn validate(&self, file: &str, text: &str) -> Result<(), ConfigProblem> {
        let at = |span: std::ops::Range<usize>| -> String {
            let line = text
                .get(..span.start)
                .map_or(1, |before| before.matches('\n').count() + 1);
            format!("{file}, line {line}")
        };
        if !self.server.webhook_path.starts_with('/') {
            return Err(ConfigProblem(format!(
                "{file}: server.webhook_path {:?} must start with '/'",
                self.server.webhook_path
            )));
        }
        if self.server.max_body_bytes == 0 || self.server.max_body_bytes > 64 * 1024 * 1024 {
            return Err(ConfigProblem(format!(
                "{file}: server.max_body_bytes = {} is outside 1..=67108864",
                self.server.max_body_bytes
            )));
        }
        if !(1..=65_536).contains(&self.server.max_connections) {
            return Err(ConfigProblem(format!(
                "{file}: server.max_connections = {} is outside 1..=65536",
                self.server.max_connections
            )));
        }
        if self.server.max_buffered_body_bytes < self.server.max_body_bytes
            || self.server.max_buffered_body_bytes > 1024 * 1024 * 1024
        {
            return Err(ConfigProblem(format!(
                "{file}: server.max_buffered_body_bytes = {} must be at least server.max_body_bytes ({}) and at most 1073741824",
                self.server.max_buffered_body_bytes, self.server.max_body_bytes
            )));
        }
        for (key, value) in [
            ("server.body_timeout_secs", self.server.body_timeout_secs),
            (
                "server.header_timeout_secs",
                self.server.header_timeout_secs,
            ),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(ConfigProblem(format!(
                    "{file}: {key} = {value} is outside 1..=3600"
                )));
            }
        }
        if !self.admin.listen.ip().is_loopback() && self.admin.token.is_none() {
            return Err(ConfigProblem(format!(
                "{file}: admin.listen = {} is not a loopback address: the admin page and its actions would be open to the network. Set admin.token (e.g. token = \"${{KICK_RELAY_ADMIN_TOKEN}}\") or listen on 127.0.0.1",
                self.admin.listen
            )));
        }
        if let Some(token) = &self.admin.token
            && token.chars().count() < MIN_ADMIN_TOKEN
        {
            return Err(ConfigProblem(format!(
                "{file}: admin.token is shorter than {MIN_ADMIN_TOKEN} characters; use a long random one (e.g. `openssl rand -hex 32`)"
            )));
        }
        if self.server.listen == self.admin.listen {
            return Err(ConfigProblem(format!(
                "{file}: admin.listen must differ from server.listen ({}): the admin API is never served on the public listener",
                self.server.listen
            )));
        }
        if !self.storage.database_url.starts_with("sqlite:") {
            return Err(ConfigProblem(format!(
                "{file}: storage.database_url must start with sqlite:// (e.g. sqlite://kick-relay.db)"
            )));
        }
        let mut names: Vec<&str> = Vec::new();
        for output in &self.outputs {
            let name = output.name.get_ref();
            if names.contains(&name.as_str()) {
                return Err(ConfigProblem(format!(
                    "{}: output.name {name:?} is used twice",
                    at(output.name.span())
                )));
            }
            names.push(name);
            output.validate(&at)?;
        }
        for subscription in &self.subscriptions {
            for event in subscription.events.get_ref() {
                if EventType::from(event.as_str()).is_unknown() {
                    return Err(ConfigProblem(format!(
                        "{}: subscription.events: unknown Kick event {event:?}",
                        at(subscription.events.span())
                    )));
                }
            }
        }
        Ok(())
    }
}

impl OutputConfig {
    /// `max_messages_per_minute` and `max_lag_secs`: Discord outputs only, within range.
    fn validate_discord_keys(
        &self,
        at: &impl Fn(std::ops::Range<usize>) -> String,
    ) -> Result<(), ConfigProblem> {
        let name = self.name.get_ref();
        for (key, span) in [
            (
                "max_messages_per_minute",
                self.max_messages_per_minute.as_ref().map(Spanned::span),
            ),
            (
                "max_lag_secs",
                self.max_lag_secs.as_ref().map(Spanned::span),
            ),
        ] {
            if let Some(span) = span
                && self.kind != SinkKind::Discord
            {
                return Err(ConfigProblem(format!(
                    "{}: output {name:?}: {key} applies to type = \"discord\" only",
                    at(span)
                )));
            }
        }
        if let Some(limit) = &self.max_messages_per_minute
            && !(1..=600).contains(limit.get_ref())
        {
            return Err(ConfigProblem(format!(
                "{}: output {name:?} max_messages_per_minute must be 1 to 600 (Discord's channel limit is 30)",
                at(limit.span())
            )));
        }
        if let Some(lag) = &self.max_lag_secs
            && *lag.get_ref() > 86_400
        {
            return Err(ConfigProblem(format!(
                "{}: output {name:?} max_lag_secs must be 0 (never skip) to 86400",
                at(lag.span())
            )));
        }
        Ok(())
    }

    /// Checks one output's values; `at` turns a span into "file, line N".
    fn validate(
        &self,
        at: &impl Fn(std::ops::Range<usize>) -> String,
    ) -> Result<(), ConfigProblem> {
        let name = self.name.get_ref();
        let where_ = at(self.name.span());
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(ConfigProblem(format!(
                "{where_}: output.name {name:?}: use letters, digits, '-', '_' or '.'"
            )));
        }
        relay_sinks::RawSink::new(
            name.clone(),
            self.url.get_ref(),
            EventFilter::all(),
            None,
            relay_sinks::HttpOptions::default(),
        )
        .map_err(|err| {
            ConfigProblem(format!(
                "{}: output {name:?} url: {err}",
                at(self.url.span())
            ))
        })?;
        if let Some(events) = &self.events {
            EventFilter::from_names(events.get_ref()).map_err(|err| {
                ConfigProblem(format!(
                    "{}: output {name:?} events: {err}",
                    at(events.span())
                ))
            })?;
        }
        if let Some(schedule) = &self.retry_schedule_secs
            && (schedule.get_ref().is_empty() || schedule.get_ref().len() > 50)
        {
            return Err(ConfigProblem(format!(
                "{}: output {name:?} retry_schedule_secs must list 1 to 50 waits",
                at(schedule.span())
            )));
        }
        if let Some(secret) = &self.secret {
            if self.kind != SinkKind::Raw {
                return Err(ConfigProblem(format!(
                    "{}: output {name:?}: secret applies to type = \"raw\" only",
                    at(secret.span())
                )));
            }
            WebhookSecret::parse(secret.get_ref()).map_err(|err| {
                ConfigProblem(format!("{}: output {name:?} {err}", at(secret.span())))
            })?;
        }
        if let Some(in_flight) = &self.max_in_flight {
            let value = *in_flight.get_ref();
            if self.kind == SinkKind::Discord && value != 1 {
                return Err(ConfigProblem(format!(
                    "{}: output {name:?}: a discord output sends one request at a time, in order (Discord's rate limits and message order need it); remove max_in_flight",
                    at(in_flight.span())
                )));
            }
            if !(1..=MAX_IN_FLIGHT).contains(&value) {
                return Err(ConfigProblem(format!(
                    "{}: output {name:?} max_in_flight must be 1 to {MAX_IN_FLIGHT} (1 sends in order)",
                    at(in_flight.span())
                )));
            }
        }
        self.validate_discord_keys(at)?;
        if self.timeout_secs == Some(0) || self.timeout_secs.is_some_and(|t| t > 300) {
            return Err(ConfigProblem(format!(
                "{where_}: output {name:?} timeout_secs must be 1 to 300"
            )));
        }
        Ok(())
    }
}

impl OutputConfig {
    /// Requests in flight at once: 1 for discord, else `max_in_flight` or
    /// [`DEFAULT_MAX_IN_FLIGHT`].
    pub fn in_flight(&self) -> usize {
        match (&self.kind, &self.max_in_flight) {
            (SinkKind::Discord, _) => 1,
            (_, Some(value)) => *value.get_ref(),
            (_, None) => DEFAULT_MAX_IN_FLIGHT,
        }
    }

    /// The event filter.
    ///
    /// # Errors
    /// An unknown event name (already refused by validation).
    pub fn filter(&self) -> anyhow::Result<EventFilter> {
        let mut filter = match &self.events {
            None => EventFilter::all(),
            Some(events) => EventFilter::from_names(events.get_ref())?,
        };
        if let Some(ids) = &self.broadcaster_user_ids {
            filter = filter.with_broadcasters(ids.iter().copied().map(UserId));
        }
        Ok(filter)
    }

    /// The retry schedule.
    pub fn schedule(&self) -> Vec<Duration> {
        self.retry_schedule_secs
            .as_ref()
            .map_or(&DEFAULT_RETRY_SCHEDULE[..], |s| s.get_ref().as_slice())
            .iter()
            .map(|secs| Duration::from_secs(*secs))
            .collect()
    }

    /// Discord: the channel's messages per minute, when configured.
    pub fn messages_per_minute(&self) -> Option<u32> {
        self.max_messages_per_minute.as_ref().map(|m| *m.get_ref())
    }

    /// Discord: how far chat may fall behind before lines are skipped (`None`: never).
    pub fn max_lag(&self) -> Option<Duration> {
        if self.kind != SinkKind::Discord {
            return None;
        }
        let secs = self
            .max_lag_secs
            .as_ref()
            .map_or(DEFAULT_MAX_LAG_SECS, |s| *s.get_ref());
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// The URL (`${VAR}`s were expanded when the file was read).
    pub fn url(&self) -> &str {
        self.url.get_ref()
    }

    /// The raw output's signing secret, if any.
    ///
    /// # Errors
    /// A malformed secret (already refused by validation).
    pub fn signing_secret(&self) -> anyhow::Result<Option<WebhookSecret>> {
        self.secret
            .as_ref()
            .map(|secret| WebhookSecret::parse(secret.get_ref()).map_err(anyhow::Error::from))
            .transpose()
    }
}

/// Replaces every `${VAR}` in the string values under `value` (key path `key`); `at` turns a
/// span into "file, line N".
fn expand_value(
    value: &mut toml::Spanned<toml::de::DeValue<'_>>,
    key: &str,
    at: &impl Fn(std::ops::Range<usize>) -> String,
) -> Result<(), ConfigProblem> {
    let span = value.span();
    match value.get_mut() {
        toml::de::DeValue::String(text) if text.contains('$') => {
            let expanded = expand_env(text)
                .map_err(|why| ConfigProblem(format!("{}: {key}: {why}", at(span))))?;
            *text = expanded.into();
        }
        toml::de::DeValue::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                expand_value(item, &format!("{key}[{index}]"), at)?;
            }
        }
        toml::de::DeValue::Table(table) => {
            for (name, item) in table.iter_mut() {
                expand_value(item, &format!("{key}.{}", name.get_ref()), at)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every `${NAME}` in `value` replaced by the environment variable `NAME`; `$$` is a literal `$`;
/// any other `$` stays as it is.
///
/// # Errors
/// An unset variable, or a `${` without its `}`, named in the message.
fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail.find('}').ok_or_else(|| {
                "a ${ without its closing } (write $$ for a literal $)".to_owned()
            })?;
            let name = &tail[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "${{{name}}} is not an environment variable name (letters, digits, _)"
                ));
            }
            let value = std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Refuses a config that cannot run, after [`Config::load`] (used by `serve`).
///
/// # Errors
/// A `kick.public_key_file` that does not exist.
pub fn check_runnable(config: &Config) -> anyhow::Result<()> {
    if let Some(path) = &config.kick.public_key_file
        && !path.is_file()
    {
        bail!("kick.public_key_file {} does not exist", path.display());
    }
    Ok(())
}
