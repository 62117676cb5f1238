//! Which events an output takes.

use std::{fmt, str::FromStr};

use kick_models::{Delivery, EventType, KickEvent, UserId, drops};

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
            Self::StreamStart => {
                matches!(delivery.event(), Some(KickEvent::LivestreamStatusUpdated(s)) if s.is_live)
            }
            Self::StreamEnd => {
                matches!(delivery.event(), Some(KickEvent::LivestreamStatusUpdated(s)) if !s.is_live)
            }
            Self::CommentIn => matches!(delivery.event(), Some(KickEvent::ChatMessageSent(_))),
            Self::DropsClaimed => drops::is_drop_claim(&delivery.headers),
        }
    }
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
    /// `None` takes every channel; otherwise the event's broadcaster must be listed (events
    /// without a known broadcaster, such as unknown types, then do not match).
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
        let broadcaster_ok = self.broadcaster_user_ids.as_ref().is_none_or(|ids| {
            delivery
                .event()
                .and_then(KickEvent::broadcaster)
                .is_some_and(|b| ids.contains(&b.user_id))
        });
        event_ok && broadcaster_ok
    }
}
