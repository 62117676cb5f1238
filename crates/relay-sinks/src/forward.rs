//! The Forward output: Kick's request, passed on untouched.

use std::{fmt, time::SystemTime};

use async_trait::async_trait;
use kick_models::{Delivery, drops, header};

use crate::{
    ConfigError, EventFilter, HttpOptions, RenderError, RenderedRequest, SendOutcome, Sink,
    SinkKind, WebhookUrl, http::Target,
};

/// Sends Kick's original request on, byte for byte: the raw body and the six `Kick-Event-*`
/// headers unchanged, so a consumer that verifies Kick's signature itself can sit behind the
/// relay (Kick allows one webhook URL per app; this fans it out).
pub struct ForwardSink {
    name: String,
    filter: EventFilter,
    target: Target,
}

impl ForwardSink {
    /// A forward output named `name` posting to `url`.
    ///
    /// # Errors
    /// [`ConfigError::Client`] when the HTTP client cannot be built.
    pub fn new(
        name: impl Into<String>,
        url: WebhookUrl,
        filter: EventFilter,
        options: HttpOptions,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            name: name.into(),
            filter,
            target: Target::new(url, options)?,
        })
    }
}

impl fmt::Debug for ForwardSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardSink")
            .field("name", &self.name)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Sink for ForwardSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> SinkKind {
        SinkKind::Forward
    }

    fn filter(&self) -> &EventFilter {
        &self.filter
    }

    fn render(&self, delivery: &Delivery) -> Result<RenderedRequest, RenderError> {
        let meta = &delivery.headers.meta;
        if drops::is_drop_claim(&delivery.headers) {
            // A Drops claim goes on with its own header set, as Kick sent it.
            return Ok(RenderedRequest {
                headers: vec![
                    ("Content-Type".to_owned(), "application/json".to_owned()),
                    (
                        drops::header::MESSAGE_ID.to_owned(),
                        meta.message_id.clone(),
                    ),
                    (
                        drops::header::TIMESTAMP.to_owned(),
                        meta.timestamp.as_str().to_owned(),
                    ),
                    (
                        drops::header::SIGNATURE.to_owned(),
                        delivery.headers.signature.clone(),
                    ),
                ],
                body: delivery.body.clone(),
            });
        }
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (header::MESSAGE_ID.to_owned(), meta.message_id.clone()),
        ];
        if let Some(subscription) = &meta.subscription_id {
            headers.push((header::SUBSCRIPTION_ID.to_owned(), subscription.to_string()));
        }
        headers.extend([
            (
                header::SIGNATURE.to_owned(),
                delivery.headers.signature.clone(),
            ),
            (
                header::MESSAGE_TIMESTAMP.to_owned(),
                meta.timestamp.as_str().to_owned(),
            ),
            (
                header::EVENT_TYPE.to_owned(),
                meta.event_type.as_str().to_owned(),
            ),
            (header::EVENT_VERSION.to_owned(), meta.version.clone()),
        ]);
        Ok(RenderedRequest {
            headers,
            body: delivery.body.clone(),
        })
    }

    async fn send(&self, request: &RenderedRequest, now: SystemTime) -> SendOutcome {
        self.target.post(request, &[], now, false).await
    }
}
