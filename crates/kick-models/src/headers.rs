//! The `Kick-Event-*` headers of a webhook delivery.

use crate::{EventType, HeaderError, SubscriptionId, Timestamp};

/// Header names, as Kick writes them (match them case-insensitively).
pub mod header {
    /// Unique id of this delivery (ULID): the idempotency key.
    pub const MESSAGE_ID: &str = "Kick-Event-Message-Id";
    /// Id of the subscription that produced the delivery (ULID).
    pub const SUBSCRIPTION_ID: &str = "Kick-Event-Subscription-Id";
    /// Base64 RSA signature over `message_id.timestamp.body`.
    pub const SIGNATURE: &str = "Kick-Event-Signature";
    /// RFC 3339 time the message was sent; part of the signed string.
    pub const MESSAGE_TIMESTAMP: &str = "Kick-Event-Message-Timestamp";
    /// Event type name, e.g. `chat.message.sent`.
    pub const EVENT_TYPE: &str = "Kick-Event-Type";
    /// Event version, e.g. `1`.
    pub const EVENT_VERSION: &str = "Kick-Event-Version";
    /// All six, in the order Kick documents them.
    pub const ALL: [&str; 6] = [
        MESSAGE_ID,
        SUBSCRIPTION_ID,
        SIGNATURE,
        MESSAGE_TIMESTAMP,
        EVENT_TYPE,
        EVENT_VERSION,
    ];
}

/// Longest header value accepted, in bytes (a 4096-bit signature is 684 Base64 characters).
const MAX_VALUE_BYTES: usize = 1024;

/// What a delivery's headers say about it (everything but the signature).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DeliveryMeta {
    /// `Kick-Event-Message-Id`: unique per delivery; the idempotency key.
    pub message_id: String,
    /// `Kick-Event-Subscription-Id`, when sent (Kick added it in February 2025).
    pub subscription_id: Option<SubscriptionId>,
    /// `Kick-Event-Message-Timestamp`, text kept verbatim for the signature.
    pub timestamp: Timestamp,
    /// `Kick-Event-Type`.
    pub event_type: EventType,
    /// `Kick-Event-Version`, e.g. `"1"`.
    pub version: String,
}

/// All `Kick-Event-*` headers of a delivery.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct WebhookHeaders {
    /// Everything but the signature.
    pub meta: DeliveryMeta,
    /// `Kick-Event-Signature`, verbatim.
    pub signature: String,
}

impl WebhookHeaders {
    /// Reads the headers from `(name, value)` pairs, matching names case-insensitively and
    /// ignoring every other header.
    ///
    /// # Errors
    /// [`HeaderError`] naming the first header that is missing (all but the subscription id are
    /// required), repeated, empty, longer than 1024 bytes, not visible ASCII, or (the timestamp)
    /// not RFC 3339.
    ///
    /// # Examples
    /// ```
    /// use kick_models::{EventType, HeaderError, WebhookHeaders};
    ///
    /// let headers = [
    ///     ("kick-event-message-id", "01JMND5PS7XQ0V3F9E2B4C6D8A"),
    ///     ("Kick-Event-Subscription-Id", "01JMND5PS7XQ0V3F9E2B4C6D8B"),
    ///     ("Kick-Event-Signature", "c2lnbmF0dXJl"),
    ///     ("Kick-Event-Message-Timestamp", "2025-02-21T23:23:36Z"),
    ///     ("Kick-Event-Type", "chat.message.sent"),
    ///     ("Kick-Event-Version", "1"),
    ///     ("Content-Type", "application/json"),
    /// ];
    /// let parsed = WebhookHeaders::from_pairs(headers)?;
    /// assert_eq!(parsed.meta.event_type, EventType::ChatMessageSent);
    ///
    /// let err = WebhookHeaders::from_pairs(headers[1..].iter().copied()).unwrap_err();
    /// assert_eq!(err, HeaderError::Missing("Kick-Event-Message-Id"));
    /// # Ok::<(), HeaderError>(())
    /// ```
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, HeaderError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let mut found: [Option<V>; 6] = Default::default();
        for (name, value) in pairs {
            let name = name.as_ref();
            let Some(index) = header::ALL
                .iter()
                .position(|known| known.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let slot = &mut found[index];
            if slot.is_some() {
                return Err(HeaderError::Duplicate(header::ALL[index]));
            }
            *slot = Some(value);
        }
        let [
            message_id,
            subscription_id,
            signature,
            timestamp,
            event_type,
            version,
        ] = found.map(|value| value.map(|v| v.as_ref().to_vec()));
        let timestamp_text = required(header::MESSAGE_TIMESTAMP, timestamp)?;
        let timestamp = Timestamp::parse(&timestamp_text).map_err(|_| HeaderError::Malformed {
            name: header::MESSAGE_TIMESTAMP,
            reason: "not an RFC 3339 date-time such as 2025-02-21T23:23:36Z",
        })?;
        Ok(Self {
            meta: DeliveryMeta {
                message_id: required(header::MESSAGE_ID, message_id)?,
                subscription_id: subscription_id
                    .map(|value| text(header::SUBSCRIPTION_ID, value).map(SubscriptionId))
                    .transpose()?,
                timestamp,
                event_type: EventType::from(required(header::EVENT_TYPE, event_type)?),
                version: required(header::EVENT_VERSION, version)?,
            },
            signature: required(header::SIGNATURE, signature)?,
        })
    }
}

fn required(name: &'static str, value: Option<Vec<u8>>) -> Result<String, HeaderError> {
    text(name, value.ok_or(HeaderError::Missing(name))?)
}

/// `value` as a header's text: non-empty, at most 1024 bytes, visible ASCII.
pub(crate) fn check_text(name: &'static str, value: String) -> Result<String, HeaderError> {
    text(name, value.into_bytes())
}

fn text(name: &'static str, value: Vec<u8>) -> Result<String, HeaderError> {
    let malformed = |reason| HeaderError::Malformed { name, reason };
    if value.is_empty() {
        return Err(malformed("empty value"));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(malformed("longer than 1024 bytes"));
    }
    if !value.iter().all(|byte| (0x21..=0x7e).contains(byte)) {
        return Err(malformed("only visible ASCII characters are allowed"));
    }
    String::from_utf8(value).map_err(|_| malformed("only visible ASCII characters are allowed"))
}
