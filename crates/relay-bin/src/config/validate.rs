//! Every check a type cannot make, each naming the file, the key and the line.

use kick_models::EventType;
use relay_sinks::{EventFilter, SinkKind, WebhookSecret};
use toml::Spanned;

use super::{Config, ConfigProblem, MAX_IN_FLIGHT, MIN_ADMIN_TOKEN, OutputConfig};

/// Fewest different characters an admin token off loopback must have: a random hex token of
/// 16 or more has about 10 or more; `aaaaaaaaaaaaaaaa` or `abababab…` is a guess away.
const MIN_DISTINCT_TOKEN_CHARS: usize = 8;

impl Config {
    /// Checks every value a type cannot.
    pub(super) fn validate(&self, file: &str, text: &str) -> Result<(), ConfigProblem> {
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
        self.validate_window(file)?;
        self.validate_admin(file)?;
        if self.server.listen == self.admin.listen {
            return Err(ConfigProblem(format!(
                "{file}: admin.listen must differ from server.listen ({}): the admin API is never served on the public listener",
                self.server.listen
            )));
        }
        if !self.storage.database_url.starts_with("sqlite:")
            && !crate::store::is_postgres_url(&self.storage.database_url)
        {
            return Err(ConfigProblem(format!(
                "{file}: storage.database_url must start with sqlite:// (e.g. sqlite://kick-relay.db) or postgres:// (e.g. postgres://relay:${{PGPASSWORD}}@db.internal/kick_relay)"
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

impl Config {
    /// `admin.token`: required off loopback, long, and off loopback not plainly weak.
    fn validate_admin(&self, file: &str) -> Result<(), ConfigProblem> {
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
        if let Some(token) = &self.admin.token
            && !self.admin.listen.ip().is_loopback()
        {
            let distinct = token
                .chars()
                .collect::<std::collections::HashSet<_>>()
                .len();
            if distinct < MIN_DISTINCT_TOKEN_CHARS {
                return Err(ConfigProblem(format!(
                    "{file}: admin.token has only {distinct} different characters: on a listener off loopback (admin.listen = {}) a token anyone could guess opens the admin page and its actions. Use a random one (e.g. `openssl rand -hex 32`)",
                    self.admin.listen
                )));
            }
        }
        Ok(())
    }

    /// `storage.retention_days` and the timestamp window it bounds.
    fn validate_window(&self, file: &str) -> Result<(), ConfigProblem> {
        if self.storage.retention_days == 0 {
            return Err(ConfigProblem(format!(
                "{file}: storage.retention_days = 0: the duplicate memory would be wiped at every start and a delivery Kick sends again would be relayed twice; use 1 or more (default 7)"
            )));
        }
        if let Some(secs) = self.server.timestamp_tolerance_secs {
            let safe = self.storage.replay_safe_age().as_secs();
            if secs > safe {
                return Err(ConfigProblem(format!(
                    "{file}: server.timestamp_tolerance_secs = {secs} reaches further back than the duplicate memory (storage.retention_days = {}) can answer for: a replay older than the memory would be relayed again. Use at most {safe}, raise retention_days, or leave the key unset (the default window keeps late deliveries as far back as is safe)",
                    self.storage.retention_days
                )));
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
            if self.kind == SinkKind::Discord
                && events
                    .get_ref()
                    .iter()
                    .any(|e| e == kick_models::drops::DROP_CLAIMED)
            {
                return Err(ConfigProblem(format!(
                    "{}: output {name:?} events: a Discord output does not post Drops claims (they are for the organisation's own systems); select drops.claimed on a raw or forward output",
                    at(events.span())
                )));
            }
        }
        if let Some(schedule) = &self.retry_schedule_secs
            && (schedule.get_ref().is_empty()
                || schedule.get_ref().len() > 50
                || schedule.get_ref().iter().any(|s| s.checked().is_none()))
        {
            return Err(ConfigProblem(format!(
                "{}: output {name:?} retry_schedule_secs must list 1 to 50 waits of 0 to 604800 seconds (fractions allowed, e.g. 0.5)",
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
