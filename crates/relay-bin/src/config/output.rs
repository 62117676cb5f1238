//! An output as the relay runs it: every value of its `[[output]]` table parsed and checked
//! once, by validation, into types that cannot hold a wrong combination; [`Output::sink`]
//! makes the sink from it.

use std::{sync::Arc, time::Duration};

use relay_sinks::{
    DiscordLimits, DiscordSink, EventFilter, ForwardSink, HttpOptions, RawSink, Sink, SinkKind,
    WebhookSecret, WebhookUrl,
};

/// One output, parsed.
#[derive(Clone, Debug)]
pub struct Output {
    /// Its unique name (logs, metrics and the CLI use it, never the URL).
    pub name: String,
    /// Where it sends (holds secrets: never printed).
    pub url: WebhookUrl,
    /// Which events it takes.
    pub filter: EventFilter,
    /// Waits between attempts.
    pub schedule: Vec<Duration>,
    /// Give up on events older than this, counted from Kick's timestamp.
    pub max_age: Option<Duration>,
    /// Each request's time limit.
    pub timeout: Duration,
    /// What the kind of output adds.
    pub kind: Kind,
}

/// The settings only one kind of output has.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Discord messages, one request at a time, in order.
    Discord {
        /// Messages per minute the channel takes (learned from Discord's 429s without it).
        messages_per_minute: Option<u32>,
        /// Chat waiting longer than this is skipped (`None`: never).
        max_lag: Option<Duration>,
    },
    /// Raw JSON for people's own tools.
    Raw {
        /// Standard Webhooks signing.
        secret: Option<WebhookSecret>,
        /// Requests in flight at once.
        in_flight: usize,
    },
    /// Kick's request as received.
    Forward {
        /// Requests in flight at once.
        in_flight: usize,
    },
}

impl Output {
    /// Requests in flight at once (1 for Discord).
    pub fn in_flight(&self) -> usize {
        match self.kind {
            Kind::Discord { .. } => 1,
            Kind::Raw { in_flight, .. } | Kind::Forward { in_flight } => in_flight,
        }
    }

    /// How far chat may fall behind before lines are skipped (Discord; `None`: never).
    pub fn max_lag(&self) -> Option<Duration> {
        match self.kind {
            Kind::Discord { max_lag, .. } => max_lag,
            Kind::Raw { .. } | Kind::Forward { .. } => None,
        }
    }

    /// Which kind of output it is.
    pub fn sink_kind(&self) -> SinkKind {
        match self.kind {
            Kind::Discord { .. } => SinkKind::Discord,
            Kind::Raw { .. } => SinkKind::Raw,
            Kind::Forward { .. } => SinkKind::Forward,
        }
    }

    /// The sink that sends for it; Discord outputs share `discord` (Discord's global limit is
    /// the process's, and each webhook has its pace).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn sink(&self, discord: &DiscordLimits) -> anyhow::Result<Arc<dyn Sink>> {
        let options = HttpOptions::new(self.timeout, HttpOptions::default().connect_timeout);
        let (name, url, filter) = (self.name.clone(), self.url.clone(), self.filter.clone());
        Ok(match &self.kind {
            Kind::Discord {
                messages_per_minute,
                ..
            } => Arc::new(
                DiscordSink::new(name, url, filter, options)?
                    .with_limits(discord, *messages_per_minute),
            ),
            Kind::Raw { secret, .. } => {
                Arc::new(RawSink::new(name, url, filter, secret.clone(), options)?)
            }
            Kind::Forward { .. } => Arc::new(ForwardSink::new(name, url, filter, options)?),
        })
    }
}
