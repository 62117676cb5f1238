//! The Discord output.

mod batch;
mod limiter;
mod render;
mod sanitize;

use std::{
    fmt,
    time::{Duration, Instant, SystemTime},
};

use async_trait::async_trait;
use kick_models::{Delivery, KickEvent};

use self::limiter::{Answer, WebhookPace};
pub use self::{
    limiter::{DISCORD_CHANNEL_LIMIT, DiscordLimits},
    sanitize::{escape_markdown, sanitize_username, truncate_chars},
};
use crate::{
    ConfigError, EventFilter, HttpOptions, RenderError, RenderedRequest, SendOutcome, Sink,
    SinkKind, WebhookUrl,
    http::{Target, classify},
};

/// Posts multistreamer-style messages to a Discord webhook: stream live and ended, chat (as
/// `{sender} @ Kick` with the sender's avatar), and a readable line for the seven other Kick
/// events. Every message carries `allowed_mentions: {"parse": []}`, text is markdown-escaped,
/// content is cut to 2000 characters and usernames cleaned to Discord's rules.
///
/// Sends with `?wait=true` (Discord confirms the message was saved) and paces itself inside
/// Discord's limits ([`Sink::ready_in`]): the webhook's bucket, the channel's 30 messages a
/// minute, the process' global limit ([`DiscordLimits`]). Chat messages can go out several to a
/// message ([`Sink::combine`]). The webhook URL holds a token: it is never printed.
pub struct DiscordSink {
    name: String,
    filter: EventFilter,
    target: Target,
    pace: WebhookPace,
}

impl DiscordSink {
    /// A Discord output named `name` posting to the webhook `url`.
    ///
    /// # Errors
    /// [`ConfigError::Client`] when the HTTP client cannot be built.
    pub fn new(
        name: impl Into<String>,
        url: WebhookUrl,
        filter: EventFilter,
        options: HttpOptions,
    ) -> Result<Self, ConfigError> {
        let mut target = Target::new(url, options)?;
        let others: Vec<(String, String)> = target
            .url_mut()
            .query_pairs()
            .filter(|(k, _)| k != "wait")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        target
            .url_mut()
            .query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .append_pair("wait", "true");
        let pace = DiscordLimits::new().webhook(target.path(), None);
        Ok(Self {
            name: name.into(),
            filter,
            target,
            pace,
        })
    }

    /// Shares `limits` (one per process: Discord's global limit, and one pace per webhook for
    /// every output posting to it), with the channel held to `max_messages_per_minute` from
    /// the start when given (otherwise it is learned from Discord's first `shared` 429).
    #[must_use]
    pub fn with_limits(
        mut self,
        limits: &DiscordLimits,
        max_messages_per_minute: Option<u32>,
    ) -> Self {
        self.pace = limits.webhook(self.target.path(), max_messages_per_minute);
        self
    }
}

impl fmt::Debug for DiscordSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordSink")
            .field("name", &self.name)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Sink for DiscordSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> SinkKind {
        SinkKind::Discord
    }

    fn filter(&self) -> &EventFilter {
        &self.filter
    }

    /// The filter matches and the event is not one that has no Discord message by design (an
    /// empty chat line). A delivery kick-models could not read (an unknown type, a new
    /// version) is taken, and recorded as skipped when it is rendered: a change at Kick shows
    /// in the output's counts instead of silencing it, and a replay sends it once the relay
    /// knows the shape.
    fn wants(&self, delivery: &Delivery) -> bool {
        self.filter.matches(delivery)
            && match delivery.event() {
                None | Some(KickEvent::Unknown(_)) => true,
                Some(event) => render::has_message(event),
            }
    }

    fn render(&self, delivery: &Delivery) -> Result<RenderedRequest, RenderError> {
        let meta = &delivery.headers.meta;
        let event = delivery.event.as_ref().map_err(|err| {
            RenderError::Unsupported(format!(
                "no Discord message for {} version {}: {err}",
                meta.event_type, meta.version
            ))
        })?;
        let message = render::message(event).ok_or_else(|| {
            RenderError::Unsupported(match meta.event_type.supported_version() {
                Some(known) if known != meta.version => format!(
                    "no Discord message for {} version {} (this relay reads version {known})",
                    meta.event_type, meta.version
                ),
                Some(_) => format!("no Discord message for {}", meta.event_type),
                None => format!(
                    "no Discord message for {} version {} (a type this relay does not know)",
                    meta.event_type, meta.version
                ),
            })
        })?;
        let body = serde_json::to_vec(&message)
            .map_err(|err| RenderError::Unsupported(err.to_string()))?;
        Ok(RenderedRequest {
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        })
    }

    async fn send(&self, request: &RenderedRequest, now: SystemTime) -> SendOutcome {
        match self.target.post_raw(request, &[]).await {
            Ok(answer) => {
                self.pace.observe(
                    &Answer {
                        status: answer.status.as_u16(),
                        headers: Some(&answer.headers),
                        body: &answer.body,
                    },
                    Instant::now(),
                );
                classify(answer.status, &answer.headers, &answer.body, now, true)
            }
            Err(failed) => failed,
        }
    }

    fn batch_line(&self, delivery: &Delivery) -> Option<String> {
        match delivery.event()? {
            kick_models::KickEvent::ChatMessageSent(chat) => Some(batch::chat_line(chat)),
            _ => None,
        }
    }

    fn combine(&self, lines: &[&str], skipped: usize) -> Option<(RenderedRequest, usize)> {
        let (message, used) = batch::combine(lines, skipped)?;
        let body = serde_json::to_vec(&message).ok()?;
        Some((
            RenderedRequest {
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: body.into(),
            },
            used,
        ))
    }

    fn ready_in(&self) -> Option<Duration> {
        self.pace.wait(Instant::now())
    }
}
