//! Drops: a reward of a Drops campaign claimed by a viewer, which Kick sends to an
//! organisation's webhook URL. Not a channel event (it has no broadcaster, no subscription, no
//! type or version header): its own header set, the same signature (Kick's key over
//! `message id.timestamp.body`).

use serde::{Deserialize, Serialize};

use crate::{DeliveryMeta, EventType, HeaderError, Timestamp, UserId, WebhookHeaders};

/// The name the relay and kick-webhook give a Drops claim where an event type is needed (output
/// filters, stored rows, the raw output's `hook_type` `kick:drops.claimed`). Kick sends no
/// `Kick-Event-Type` for it; this name is never one of Kick's.
pub const DROP_CLAIMED: &str = "drops.claimed";

/// The headers of a Drops claim delivery (note the capital `ID` and `Kick-Event-Timestamp`,
/// not `…-Message-Timestamp`; header names are case-insensitive all the same).
pub mod header {
    /// The delivery's id (`Kick-Event-Message-ID`).
    pub const MESSAGE_ID: &str = "Kick-Event-Message-ID";
    /// When Kick sent it, RFC 3339.
    pub const TIMESTAMP: &str = "Kick-Event-Timestamp";
    /// Standard Base64 RSA PKCS#1 v1.5 SHA-256 signature of `message id.timestamp.body`.
    pub const SIGNATURE: &str = "Kick-Event-Signature";
}

/// A viewer claimed a reward of a Drops campaign. Kick wants `200` for it, also for a claim id
/// it sent before; the claim id is what makes a repeat one.
///
/// ```
/// use kick_models::drops::DropClaimed;
///
/// let claim: DropClaimed = serde_json::from_str(
///     r#"{"claim_id":"01JCLAIM0000000000000000AA","user_id":123,"campaign_id":"01JCAMPAIGN000000000000000","reward_id":"01JREWARD00000000000000000"}"#,
/// )?;
/// assert_eq!(claim.user_id.0, 123);
/// assert_eq!(claim.external_id, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct DropClaimed {
    /// The claim (a ULID); a repeat of a claim carries the same one.
    pub claim_id: String,
    /// The viewer who claimed.
    pub user_id: UserId,
    /// The campaign (a ULID).
    pub campaign_id: String,
    /// The reward claimed (a ULID).
    pub reward_id: String,
    /// The organisation's own id for the reward, when it gave one.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Whether headers named `names` are a Drops claim's: `Kick-Event-Timestamp` without a
/// `Kick-Event-Type` (an organisation may give Kick one URL for both kinds of delivery).
pub fn is_drops_request<I, K>(names: I) -> bool
where
    I: IntoIterator<Item = K>,
    K: AsRef<str>,
{
    let (mut timestamp, mut event_type) = (false, false);
    for name in names {
        let name = name.as_ref();
        timestamp |= name.eq_ignore_ascii_case(header::TIMESTAMP);
        event_type |= name.eq_ignore_ascii_case(crate::header::EVENT_TYPE);
    }
    timestamp && !event_type
}

/// Reads a Drops claim's headers into [`WebhookHeaders`], so it travels like any delivery: its
/// type is [`DROP_CLAIMED`], version `1`, no subscription.
///
/// # Errors
/// A header missing, repeated or malformed, named in the error.
pub fn headers_from_pairs<I, K, V>(pairs: I) -> Result<WebhookHeaders, HeaderError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    const NAMES: [&str; 3] = [header::MESSAGE_ID, header::TIMESTAMP, header::SIGNATURE];
    let mut found: [Option<Vec<u8>>; 3] = Default::default();
    for (name, value) in pairs {
        let Some(index) = NAMES
            .iter()
            .position(|known| known.eq_ignore_ascii_case(name.as_ref()))
        else {
            continue;
        };
        let Some(slot) = found.get_mut(index) else {
            continue;
        };
        if slot.is_some() {
            return Err(HeaderError::Duplicate(NAMES[index]));
        }
        *slot = Some(value.as_ref().to_vec());
    }
    let [message_id, timestamp, signature] =
        found.map(|value| value.map(|v| String::from_utf8_lossy(&v).into_owned()));
    let required = |name: &'static str, value: Option<String>| {
        let value = value.ok_or(HeaderError::Missing(name))?;
        crate::headers::check_text(name, value)
    };
    let timestamp_text = required(header::TIMESTAMP, timestamp)?;
    let timestamp = Timestamp::parse(&timestamp_text).map_err(|_| HeaderError::Malformed {
        name: header::TIMESTAMP,
        reason: "not an RFC 3339 date-time such as 2025-02-21T23:23:36Z",
    })?;
    Ok(WebhookHeaders {
        meta: DeliveryMeta {
            message_id: required(header::MESSAGE_ID, message_id)?,
            subscription_id: None,
            timestamp,
            event_type: EventType::from(DROP_CLAIMED),
            version: "1".to_owned(),
        },
        signature: required(header::SIGNATURE, signature)?,
    })
}

/// Reads a delivery's headers, whichever kind it is: a Drops claim's ([`headers_from_pairs`])
/// when [`is_drops_request`] says so, else a channel event's ([`WebhookHeaders::from_pairs`]).
/// An organisation may give Kick one URL for both. `pairs` makes the header pairs afresh (they
/// are looked at twice: which kind, then the values).
///
/// # Errors
/// A header missing, repeated or malformed, named in the error.
pub fn any_headers_from_pairs<F, I, K, V>(pairs: F) -> Result<WebhookHeaders, HeaderError>
where
    F: Fn() -> I,
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    if is_drops_request(pairs().into_iter().map(|(name, _)| name)) {
        headers_from_pairs(pairs())
    } else {
        WebhookHeaders::from_pairs(pairs())
    }
}

/// Whether `headers` (as [`headers_from_pairs`] makes them) are a Drops claim's.
pub fn is_drop_claim(headers: &WebhookHeaders) -> bool {
    headers.meta.event_type.as_str() == DROP_CLAIMED
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: [(&str, &str); 3] = [
        ("kick-event-message-id", "01JDROPSMESSAGE00000000000"),
        ("Kick-Event-Timestamp", "2026-06-01T12:00:00Z"),
        ("Kick-Event-Signature", "c2lnbmF0dXJl"),
    ];

    #[test]
    fn a_drops_request_is_told_apart_from_an_event_and_read() {
        assert!(is_drops_request(DOCS.map(|(n, _)| n)));
        assert!(!is_drops_request([
            "Kick-Event-Timestamp",
            "kick-event-type"
        ]));
        assert!(!is_drops_request(["Kick-Event-Message-Timestamp"]));
        let headers = headers_from_pairs(DOCS).unwrap();
        assert!(is_drop_claim(&headers));
        assert_eq!(headers.meta.message_id, "01JDROPSMESSAGE00000000000");
        assert_eq!(headers.meta.timestamp.as_str(), "2026-06-01T12:00:00Z");
        assert_eq!(headers.meta.subscription_id, None);
        assert_eq!(headers.signature, "c2lnbmF0dXJl");
    }

    #[test]
    fn either_kind_is_read_by_its_headers() {
        let claim = any_headers_from_pairs(|| DOCS).unwrap();
        assert!(is_drop_claim(&claim));
        let event = [
            ("Kick-Event-Message-Id", "m"),
            ("Kick-Event-Signature", "s"),
            ("Kick-Event-Message-Timestamp", "2026-06-01T12:00:00Z"),
            ("Kick-Event-Type", "channel.followed"),
            ("Kick-Event-Version", "1"),
        ];
        let event = any_headers_from_pairs(|| event).unwrap();
        assert_eq!(event.meta.event_type, EventType::ChannelFollowed);
        assert!(!is_drop_claim(&event));
    }

    #[test]
    fn a_missing_or_repeated_header_is_named() {
        let missing = headers_from_pairs(DOCS[..2].iter().copied()).unwrap_err();
        assert_eq!(missing, HeaderError::Missing(header::SIGNATURE));
        let mut twice = DOCS.to_vec();
        twice.push(("KICK-EVENT-MESSAGE-ID", "x"));
        assert_eq!(
            headers_from_pairs(twice).unwrap_err(),
            HeaderError::Duplicate(header::MESSAGE_ID)
        );
        let bad_time = [DOCS[0], ("Kick-Event-Timestamp", "yesterday"), DOCS[2]];
        assert!(matches!(
            headers_from_pairs(bad_time),
            Err(HeaderError::Malformed {
                name: header::TIMESTAMP,
                ..
            })
        ));
    }
}
