//! The Raw output: JSON for people's own tools.

mod render;
mod secret;

use std::{fmt, time::SystemTime};

use async_trait::async_trait;
use kick_models::Delivery;

pub use self::secret::WebhookSecret;
use crate::{
    ConfigError, EventFilter, HttpOptions, RenderError, RenderedRequest, SendOutcome, Sink,
    SinkKind, WebhookUrl, http::Target,
};

/// Posts multistreamer's Raw JSON (`stream:start`, `stream:end`, `comment:in`) and a
/// `kick:<event type>` envelope for every other event, unknown ones included. With a secret,
/// each attempt carries Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`), signed at send time so that retries stay inside receivers' windows.
pub struct RawSink {
    name: String,
    filter: EventFilter,
    target: Target,
    secret: Option<WebhookSecret>,
}

impl RawSink {
    /// A raw output named `name` posting to `url`, signing with `secret` when given.
    ///
    /// # Errors
    /// [`ConfigError::Client`] when the HTTP client cannot be built.
    pub fn new(
        name: impl Into<String>,
        url: WebhookUrl,
        filter: EventFilter,
        secret: Option<WebhookSecret>,
        options: HttpOptions,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            name: name.into(),
            filter,
            target: Target::new(url, options)?,
            secret,
        })
    }
}

impl fmt::Debug for RawSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSink")
            .field("name", &self.name)
            .field("filter", &self.filter)
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Sink for RawSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> SinkKind {
        SinkKind::Raw
    }

    fn filter(&self) -> &EventFilter {
        &self.filter
    }

    fn render(&self, delivery: &Delivery) -> Result<RenderedRequest, RenderError> {
        Ok(RenderedRequest {
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (
                    "webhook-id".into(),
                    delivery.headers.meta.message_id.clone(),
                ),
            ],
            body: render::render(delivery)?.into(),
        })
    }

    async fn send(&self, request: &RenderedRequest, now: SystemTime) -> SendOutcome {
        let mut extra = Vec::new();
        if let Some(secret) = &self.secret {
            let id = request.header("webhook-id").unwrap_or_default();
            let timestamp = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            extra.push(("webhook-timestamp", timestamp.to_string()));
            extra.push((
                "webhook-signature",
                secret.sign(id, timestamp, &request.body),
            ));
        }
        self.target.post(request, &extra, now, false).await
    }
}
