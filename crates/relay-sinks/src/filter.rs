//! Which events an output takes.

use std::{fmt, str::FromStr};

use kick_models::{Delivery, EventType, KickEvent, UserId, drops};
use serde::Deserialize;

use crate::ConfigError;

/// One entry of an output's `events` list: a Kick event type, or one of multistreamer's names.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum EventSelector {
    /// Every delivery of this Kick type (parsed or not).
    Kick(EventType),
    /// multistreamer's `stream:start`: `livestream.status.updated` with `is_live: true`.
    StreamStart,
    /// multistreamer's `stream:end`: `livestream.status.updated` with `is_live: false`.
    StreamEnd,
    /// multistreamer's `comment:in`: `chat.message.sent`.
    CommentIn,
    /// `drops.claimed`: a viewer claimed a Drops reward (an organisation's webhook, not a
    /// channel event). Only outputs that name it get it.
    DropsClaimed,
}

impl EventSelector {
    /// Whether `delivery` is selected.
    pub fn matches(&self, delivery: &Delivery) -> bool {
        match self {
            Self::Kick(event_type) => &delivery.headers.meta.event_type == event_type,
            Self::StreamStart => is_live(delivery) == Some(true),
            Self::StreamEnd => is_live(delivery) == Some(false),
            Self::CommentIn => {
                delivery.headers.meta.event_type == EventType::ChatMessageSent
                    && !drops::is_drop_claim(&delivery.headers)
            }
            Self::DropsClaimed => drops::is_drop_claim(&delivery.headers),
        }
    }
}

/// What a selection needs of a body kick-models could not read (a new version, a changed
/// shape), read leniently so that such a delivery still reaches the outputs that select it.
#[derive(Deserialize)]
struct Lenient {
    broadcaster: Option<LenientUser>,
    is_live: Option<bool>,
}

#[derive(Deserialize)]
struct LenientUser {
    user_id: UserId,
}

/// The body read leniently, for a delivery kick-models did not read into a known event (an
/// unknown type or version, or a body that does not fit the known version's schema).
fn lenient(delivery: &Delivery) -> Option<Lenient> {
    match delivery.event() {
        None | Some(KickEvent::Unknown(_)) => serde_json::from_slice(&delivery.body).ok(),
        Some(_) => None,
    }
}

/// `is_live` of a `livestream.status.updated` delivery, of any version, parsed or not.
fn is_live(delivery: &Delivery) -> Option<bool> {
    match delivery.event() {
        Some(KickEvent::LivestreamStatusUpdated(status)) => Some(status.is_live),
        _ if delivery.headers.meta.event_type == EventType::LivestreamStatusUpdated => {
            lenient(delivery).and_then(|body| body.is_live)
        }
        _ => None,
    }
}

/// The broadcaster of a delivery, of any version, parsed or not.
fn broadcaster(delivery: &Delivery) -> Option<UserId> {
    delivery
        .event()
        .and_then(KickEvent::broadcaster)
        .map(|b| b.user_id)
        .or_else(|| {
            lenient(delivery)
                .and_then(|body| body.broadcaster)
                .map(|b| b.user_id)
        })
}

impl FromStr for EventSelector {
    type Err = ConfigError;

    /// Reads `stream:start`, `stream:end`, `comment:in` or one of the ten Kick event types.
    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "stream:start" => Ok(Self::StreamStart),
            "stream:end" => Ok(Self::StreamEnd),
            "comment:in" => Ok(Self::CommentIn),
            drops::DROP_CLAIMED => Ok(Self::DropsClaimed),
            other => match EventType::from(other) {
                EventType::Unknown(_) => Err(ConfigError::Event(format!(
                    "unknown event {other:?}; use stream:start, stream:end, comment:in, drops.claimed or one of: {}",
                    EventType::KNOWN.map(|t| t.as_str().to_owned()).join(", ")
                ))),
                known => Ok(Self::Kick(known)),
            },
        }
    }
}

impl fmt::Display for EventSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Kick(event_type) => event_type.as_str(),
            Self::StreamStart => "stream:start",
            Self::StreamEnd => "stream:end",
            Self::CommentIn => "comment:in",
            Self::DropsClaimed => drops::DROP_CLAIMED,
        })
    }
}

/// An output's selection: which events (default: all, unknown types included) and, optionally,
/// which broadcasters.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct EventFilter {
    /// `None` takes every event; otherwise a delivery must match one selector.
    pub events: Option<Vec<EventSelector>>,
    /// `None` takes every channel; otherwise the event's broadcaster must be listed (read
    /// leniently from a body kick-models could not parse; events without a broadcaster then
    /// do not match).
    pub broadcaster_user_ids: Option<Vec<UserId>>,
}

impl EventFilter {
    /// Every event from every channel.
    pub const fn all() -> Self {
        Self {
            events: None,
            broadcaster_user_ids: None,
        }
    }

    /// A filter from event names (see [`EventSelector::from_str`]).
    ///
    /// # Errors
    /// [`ConfigError::Event`] naming the first unknown name and listing the valid ones.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, ConfigError> {
        let events = names
            .iter()
            .map(|name| name.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            events: Some(events),
            broadcaster_user_ids: None,
        })
    }

    /// Only these broadcasters.
    #[must_use]
    pub fn with_broadcasters(mut self, ids: impl IntoIterator<Item = UserId>) -> Self {
        self.broadcaster_user_ids = Some(ids.into_iter().collect());
        self
    }

    /// Whether `delivery` passes. A Drops claim passes only an `events` list that names
    /// `drops.claimed` (it belongs to no broadcaster, so `broadcaster_user_ids` does not apply
    /// to it; an output taking every event is a streamer's, which Drops are not for).
    pub fn matches(&self, delivery: &Delivery) -> bool {
        if drops::is_drop_claim(&delivery.headers) {
            return self
                .events
                .as_ref()
                .is_some_and(|selectors| selectors.contains(&EventSelector::DropsClaimed));
        }
        let event_ok = self
            .events
            .as_ref()
            .is_none_or(|selectors| selectors.iter().any(|s| s.matches(delivery)));
        let broadcaster_ok = self
            .broadcaster_user_ids
            .as_ref()
            .is_none_or(|ids| broadcaster(delivery).is_some_and(|id| ids.contains(&id)));
        event_ok && broadcaster_ok
    }
}
