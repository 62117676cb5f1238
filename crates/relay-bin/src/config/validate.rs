//! Every check a type cannot make, each naming the file, the key and the line; all of them
//! reported at once, in file order.

use std::{ops::Range, time::Duration};

use kick_models::{EventType, UserId};
use relay_sinks::{EventFilter, SinkKind, WebhookSecret, WebhookUrl};
use toml::Spanned;

use super::{
    Config, ConfigProblem, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_LAG_SECS, DEFAULT_RETRY_SCHEDULE,
    MAX_IN_FLIGHT, MIN_ADMIN_TOKEN, Output, OutputConfig, OutputKind,
};

/// The problems found in one configuration, each with the line it is on (0: not in the file,
/// a default or an environment variable).
pub(super) struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    found: Vec<(usize, String)>,
}

impl<'a> Problems<'a> {
    fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            found: Vec::new(),
        }
    }

    /// The line of byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.text
            .get(..offset)
            .map_or(1, |before| before.matches('\n').count() + 1)
    }

    /// A problem with the value at `span`.
    fn at(&mut self, span: Range<usize>, message: String) {
        let line = self.line(span.start);
        self.found.push((line, message));
    }

    /// A problem with the key `path` (`["server", "listen"]`): on its line when the file
    /// sets it.
    fn key(&mut self, path: &[&str], message: String) {
        let line = locate(self.text, path).map_or(0, |offset| self.line(offset));
        self.found.push((line, message));
    }

    /// All problems, in file order, one per line (`file, line N: …`); `Ok` when none.
    fn finish(mut self) -> Result<(), ConfigProblem> {
        self.found.sort_by_key(|(line, _)| *line);
        let lines: Vec<String> = self
            .found
            .iter()
            .map(|(line, message)| match line {
                0 => format!("{}: {message}", self.file),
                line => format!("{}, line {line}: {message}", self.file),
            })
            .collect();
        match lines.len() {
            0 => Ok(()),
            1 => Err(ConfigProblem(lines.concat())),
            n => Err(ConfigProblem(format!(
                "{n} problems in {}:\n{}",
                self.file,
                lines.join("\n")
            ))),
        }
    }
}

/// The byte offset of the key `path` in the TOML `text`, when it is set there.
fn locate(text: &str, path: &[&str]) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let (last, tables) = path.split_last()?;
    let mut table = root.get_ref();
    for name in tables {
        let (_, value) = table.iter().find(|(key, _)| key.get_ref() == name)?;
        table = value.get_ref().as_table()?;
    }
    table
        .iter()
        .find(|(key, _)| key.get_ref() == last)
        .map(|(key, _)| key.span().start)
}

/// Fewest different characters an admin token off loopback must have: a random hex token of
/// 16 or more has about 10 or more; `aaaaaaaaaaaaaaaa` or `abababab…` is a guess away.
const MIN_DISTINCT_TOKEN_CHARS: usize = 8;

impl Config {
    /// Checks every value a type cannot, and parses the outputs; all problems at once, in file
    /// order.
    pub(super) fn validate(&self, file: &str, text: &str) -> Result<Vec<Output>, ConfigProblem> {
        let mut problems = Problems::new(file, text);
        self.validate_server(&mut problems);
        self.validate_window(&mut problems);
        self.validate_admin(&mut problems);
        self.validate_kick(&mut problems);
        if !self.storage.database_url.starts_with("sqlite:")
            && !crate::store::is_postgres_url(&self.storage.database_url)
        {
            problems.key(
                &["storage", "database_url"],
                "storage.database_url must start with sqlite:// (e.g. sqlite://kick-relay.db) or postgres:// (e.g. postgres://relay:${PGPASSWORD}@db.internal/kick_relay)".into(),
            );
        }
        let mut names: Vec<&str> = Vec::new();
        let mut outputs = Vec::with_capacity(self.output_tables.len());
        for output in &self.output_tables {
            let name = output.name.get_ref();
            if names.contains(&name.as_str()) {
                problems.at(
                    output.name.span(),
                    format!("output {name:?}: the name is used by an earlier output"),
                );
            }
            names.push(name);
            outputs.extend(output.parse(&mut problems));
        }
        for subscription in &self.subscriptions {
            let events = subscription.events.get_ref();
            if events.is_empty() {
                problems.at(
                    subscription.events.span(),
                    format!(
                        "subscription {}: events is empty; list the Kick events to subscribe to",
                        subscription.broadcaster_user_id
                    ),
                );
            }
            for event in events {
                if EventType::from(event.as_str()).is_unknown() {
                    problems.at(
                        subscription.events.span(),
                        format!(
                            "subscription {}: events: unknown Kick event {event:?}; use one of: {}",
                            subscription.broadcaster_user_id,
                            EventType::KNOWN.map(|t| t.as_str().to_owned()).join(", ")
                        ),
                    );
                }
            }
        }
        problems.finish().map(|()| outputs)
    }

    /// `[server]`: path, sizes, timeouts, and a listener apart from the admin one.
    fn validate_server(&self, problems: &mut Problems<'_>) {
        let server = &self.server;
        if !server.webhook_path.starts_with('/') {
            problems.key(
                &["server", "webhook_path"],
                format!(
                    "server.webhook_path {:?} must start with '/'",
                    server.webhook_path
                ),
            );
        }
        if server.max_body_bytes == 0 || server.max_body_bytes > 64 * 1024 * 1024 {
            problems.key(
                &["server", "max_body_bytes"],
                format!(
                    "server.max_body_bytes = {} is outside 1..=67108864",
                    server.max_body_bytes
                ),
            );
        }
        if !(1..=65_536).contains(&server.max_connections) {
            problems.key(
                &["server", "max_connections"],
                format!(
                    "server.max_connections = {} is outside 1..=65536",
                    server.max_connections
                ),
            );
        }
        if server.max_buffered_body_bytes < server.max_body_bytes
            || server.max_buffered_body_bytes > 1024 * 1024 * 1024
        {
            problems.key(
                &["server", "max_buffered_body_bytes"],
                format!(
                    "server.max_buffered_body_bytes = {} must be at least server.max_body_bytes ({}) and at most 1073741824",
                    server.max_buffered_body_bytes, server.max_body_bytes
                ),
            );
        }
        for (key, value) in [
            ("body_timeout_secs", server.body_timeout_secs),
            ("header_timeout_secs", server.header_timeout_secs),
        ] {
            if !(1..=3600).contains(&value) {
                problems.key(
                    &["server", key],
                    format!("server.{key} = {value} is outside 1..=3600"),
                );
            }
        }
        if server.listen == self.admin.listen {
            problems.key(
                &["admin", "listen"],
                format!(
                    "admin.listen must differ from server.listen ({}): the admin API is never served on the public listener",
                    server.listen
                ),
            );
        }
    }

    /// `admin.token`: required off loopback, long, and off loopback not plainly weak.
    fn validate_admin(&self, problems: &mut Problems<'_>) {
        if !self.admin.listen.ip().is_loopback() && self.admin.token.is_none() {
            problems.key(
                &["admin", "listen"],
                format!(
                    "admin.listen = {} is not a loopback address: the admin page and its actions would be open to the network. Set admin.token (e.g. token = \"${{KICK_RELAY_ADMIN_TOKEN}}\") or listen on 127.0.0.1",
                    self.admin.listen
                ),
            );
        }
        let Some(token) = &self.admin.token else {
            return;
        };
        if token.chars().count() < MIN_ADMIN_TOKEN {
            problems.key(
                &["admin", "token"],
                format!(
                    "admin.token is shorter than {MIN_ADMIN_TOKEN} characters; use a long random one (e.g. `openssl rand -hex 32`)"
                ),
            );
        } else if !self.admin.listen.ip().is_loopback() {
            let distinct = token
                .chars()
                .collect::<std::collections::HashSet<_>>()
                .len();
            if distinct < MIN_DISTINCT_TOKEN_CHARS {
                problems.key(
                    &["admin", "token"],
                    format!(
                        "admin.token has only {distinct} different characters: on a listener off loopback (admin.listen = {}) a token anyone could guess opens the admin page and its actions. Use a random one (e.g. `openssl rand -hex 32`)",
                        self.admin.listen
                    ),
                );
            }
        }
    }

    /// `kick.public_key_file` exists (relative paths were resolved against the file's folder).
    fn validate_kick(&self, problems: &mut Problems<'_>) {
        if let Some(path) = &self.kick.public_key_file
            && !path.is_file()
        {
            problems.key(
                &["kick", "public_key_file"],
                format!(
                    "kick.public_key_file {} does not exist (a relative path is relative to the config file's folder)",
                    path.display()
                ),
            );
        }
    }

    /// `storage.retention_days` and the timestamp window it bounds.
    fn validate_window(&self, problems: &mut Problems<'_>) {
        if self.storage.retention_days == 0 {
            problems.key(
                &["storage", "retention_days"],
                "storage.retention_days = 0: the duplicate memory would be wiped at every start and a delivery Kick sends again would be relayed twice; use 1 or more (default 7)".into(),
            );
            return;
        }
        if let Some(secs) = self.server.timestamp_tolerance_secs {
            let safe = self.storage.replay_safe_age().as_secs();
            if secs > safe {
                problems.key(
                    &["server", "timestamp_tolerance_secs"],
                    format!(
                        "server.timestamp_tolerance_secs = {secs} reaches further back than the duplicate memory (storage.retention_days = {}) can answer for: a replay older than the memory would be relayed again. Use at most {safe}, raise retention_days, or leave the key unset (the default window keeps late deliveries as far back as is safe)",
                        self.storage.retention_days
                    ),
                );
            }
        }
    }
}

impl OutputConfig {
    /// `max_messages_per_minute` and `max_lag_secs`: Discord outputs only, within range.
    fn validate_discord_keys(&self, problems: &mut Problems<'_>) {
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
                problems.at(
                    span,
                    format!("output {name:?} {key}: applies to type = \"discord\" only"),
                );
            }
        }
        if let Some(limit) = &self.max_messages_per_minute
            && !(1..=600).contains(limit.get_ref())
        {
            problems.at(
                limit.span(),
                format!(
                    "output {name:?} max_messages_per_minute: must be 1 to 600 (Discord's channel limit is 30)"
                ),
            );
        }
        if let Some(lag) = &self.max_lag_secs
            && *lag.get_ref() > 86_400
        {
            problems.at(
                lag.span(),
                format!("output {name:?} max_lag_secs: must be 0 (never skip) to 86400"),
            );
        }
    }

    /// `events` and `broadcaster_user_ids`: known names, never an empty list; the filter.
    fn parse_selection(&self, problems: &mut Problems<'_>) -> Option<EventFilter> {
        let name = self.name.get_ref();
        let mut filter = Some(EventFilter::all());
        if let Some(events) = &self.events {
            if events.get_ref().is_empty() {
                problems.at(
                    events.span(),
                    format!(
                        "output {name:?} events: an empty list selects nothing, so the output would never get an event; list the events, or remove the key for all of them"
                    ),
                );
            }
            match EventFilter::from_names(events.get_ref()) {
                Ok(selected) => filter = Some(selected),
                Err(err) => {
                    problems.at(events.span(), format!("output {name:?} events: {err}"));
                    filter = None;
                }
            }
            if self.kind == SinkKind::Discord
                && events
                    .get_ref()
                    .iter()
                    .any(|e| e == kick_models::drops::DROP_CLAIMED)
            {
                problems.at(
                    events.span(),
                    format!(
                        "output {name:?} events: a Discord output does not post Drops claims (they are for the organisation's own systems); select drops.claimed on a raw or forward output"
                    ),
                );
            }
        }
        if let Some(ids) = &self.broadcaster_user_ids {
            if ids.get_ref().is_empty() {
                problems.at(
                    ids.span(),
                    format!(
                        "output {name:?} broadcaster_user_ids: an empty list matches no channel, so the output would never get an event; list the channels, or remove the key for all of them"
                    ),
                );
            }
            filter = filter.map(|f| f.with_broadcasters(ids.get_ref().iter().copied().map(UserId)));
        }
        filter
    }

    /// Checks one output's values and parses them; `None` when one is wrong (said in
    /// `problems`).
    fn parse(&self, problems: &mut Problems<'_>) -> Option<Output> {
        let found_before = problems.found.len();
        let name = self.name.get_ref();
        let name_span = self.name.span();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            problems.at(
                name_span.clone(),
                format!("output {name:?}: use letters, digits, '-', '_' or '.' in the name"),
            );
        }
        let url = WebhookUrl::parse(self.url.get_ref())
            .map_err(|err| problems.at(self.url.span(), format!("output {name:?} url: {err}")))
            .ok();
        let filter = self.parse_selection(problems);
        if let Some(schedule) = &self.retry_schedule_secs
            && (schedule.get_ref().is_empty()
                || schedule.get_ref().len() > 50
                || schedule.get_ref().iter().any(|s| s.checked().is_none()))
        {
            problems.at(
                schedule.span(),
                format!(
                    "output {name:?} retry_schedule_secs: must list 1 to 50 waits of 0 to 604800 seconds (fractions allowed, e.g. 0.5)"
                ),
            );
        }
        self.validate_kind_keys(problems);
        if self.timeout_secs == Some(0) || self.timeout_secs.is_some_and(|t| t > 300) {
            problems.at(
                name_span.clone(),
                format!("output {name:?} timeout_secs: must be 1 to 300"),
            );
        }
        if problems.found.len() > found_before {
            return None;
        }
        let kind = self.kind(problems)?;
        Some(Output {
            name: name.clone(),
            url: url?,
            filter: filter?,
            schedule: self.retry_schedule_secs.as_ref().map_or_else(
                || {
                    DEFAULT_RETRY_SCHEDULE
                        .iter()
                        .map(|s| Duration::from_secs(*s))
                        .collect()
                },
                |schedule| schedule.get_ref().iter().map(|s| s.duration()).collect(),
            ),
            max_age: self.max_age_secs.map(Duration::from_secs),
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(15)),
            kind,
        })
    }

    /// The keys one kind of output has: `secret` (raw), `max_in_flight` (raw and forward),
    /// `max_messages_per_minute` and `max_lag_secs` (discord).
    fn validate_kind_keys(&self, problems: &mut Problems<'_>) {
        let name = self.name.get_ref();
        if let Some(secret) = &self.secret {
            if self.kind != SinkKind::Raw {
                problems.at(
                    secret.span(),
                    format!("output {name:?} secret: applies to type = \"raw\" only"),
                );
            } else if let Err(err) = WebhookSecret::parse(secret.get_ref()) {
                problems.at(secret.span(), format!("output {name:?} secret: {err}"));
            }
        }
        if let Some(in_flight) = &self.max_in_flight {
            let value = *in_flight.get_ref();
            if self.kind == SinkKind::Discord && value != 1 {
                problems.at(
                    in_flight.span(),
                    format!(
                        "output {name:?} max_in_flight: a discord output sends one request at a time, in order (Discord's rate limits and message order need it); remove the key"
                    ),
                );
            } else if !(1..=MAX_IN_FLIGHT).contains(&value) {
                problems.at(
                    in_flight.span(),
                    format!(
                        "output {name:?} max_in_flight: must be 1 to {MAX_IN_FLIGHT} (1 sends in order)"
                    ),
                );
            }
        }
        self.validate_discord_keys(problems);
    }

    /// What the output's kind adds, from keys already checked.
    fn kind(&self, problems: &mut Problems<'_>) -> Option<OutputKind> {
        let name = self.name.get_ref();
        let secret = self
            .secret
            .as_ref()
            .and_then(|secret| WebhookSecret::parse(secret.get_ref()).ok());
        let in_flight = self
            .max_in_flight
            .as_ref()
            .map_or(DEFAULT_MAX_IN_FLIGHT, |n| *n.get_ref());
        Some(match self.kind {
            SinkKind::Discord => OutputKind::Discord {
                messages_per_minute: self.max_messages_per_minute.as_ref().map(|m| *m.get_ref()),
                max_lag: Some(
                    self.max_lag_secs
                        .as_ref()
                        .map_or(DEFAULT_MAX_LAG_SECS, |s| *s.get_ref()),
                )
                .filter(|secs| *secs > 0)
                .map(Duration::from_secs),
            },
            SinkKind::Raw => OutputKind::Raw { secret, in_flight },
            SinkKind::Forward => OutputKind::Forward { in_flight },
            other => {
                problems.at(
                    self.name.span(),
                    format!("output {name:?}: type {other} is not supported by this relay"),
                );
                return None;
            }
        })
    }
}
