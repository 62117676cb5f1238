//! The Discord output.

mod render;
mod sanitize;

use std::{fmt, time::SystemTime};

use async_trait::async_trait;
use kick_models::Delivery;

pub use self::sanitize::{escape_markdown, sanitize_username, truncate_chars};
use crate::{
    ConfigError, EventFilter, HttpOptions, RenderError, RenderedRequest, SendOutcome, Sink,
    SinkKind, http::Target,
};

/// Posts multistreamer-style messages to a Discord webhook: stream live and ended, chat (as
/// `{sender} @ Kick` with the sender's avatar), and a readable line for the seven other Kick
/// events. Every message carries `allowed_mentions: {"parse": []}`, text is markdown-escaped,
/// content is cut to 2000 characters and usernames cleaned to Discord's rules.
///
/// Sends with `?wait=true` (Discord confirms the message was saved) and reports Discord's
/// rate-limit headers in [`SendOutcome::wait`], so the caller can keep one request in flight
/// and never trip a 429 on purpose. The webhook URL holds a token: it is never printed.
pub struct DiscordSink {
    name: String,
    filter: EventFilter,
    target: Target,
}

impl DiscordSink {
    /// A Discord output named `name` posting to the webhook `url`.
    ///
    /// # Errors
    /// [`ConfigError::Url`] when the URL is not an `http(s)` URL.
    pub fn new(
        name: impl Into<String>,
        url: &str,
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
        Ok(Self {
            name: name.into(),
            filter,
            target,
        })
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

    /// The filter matches and there is a Discord message for the event (not for unknown types
    /// or bodies that did not parse).
    fn wants(&self, delivery: &Delivery) -> bool {
        self.filter.matches(delivery) && delivery.event().and_then(render::message).is_some()
    }

    fn render(&self, delivery: &Delivery) -> Result<RenderedRequest, RenderError> {
        let event = delivery.event().ok_or_else(|| {
            RenderError::Unsupported(format!(
                "{} body did not parse",
                delivery.headers.meta.event_type
            ))
        })?;
        let message = render::message(event).ok_or_else(|| {
            RenderError::Unsupported(format!(
                "no Discord message for {}",
                delivery.headers.meta.event_type
            ))
        })?;
        let body = serde_json::to_vec(&message)
            .map_err(|err| RenderError::Unsupported(err.to_string()))?;
        Ok(RenderedRequest {
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
        })
    }

    async fn send(&self, request: &RenderedRequest, now: SystemTime) -> SendOutcome {
        self.target.post(request, &[], now, true).await
    }
}
