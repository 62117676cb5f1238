//! Which events an output takes.

use std::{fmt, str::FromStr};

use kick_models::{Delivery, EventType, KickEvent, UserId};

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
            other => match EventType::from(other) {
                EventType::Unknown(_) => Err(ConfigError::Event(format!(
                    "unknown event {other:?}; use stream:start, stream:end, comment:in or one of: {}",
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

    /// Whether `delivery` passes.
    pub fn matches(&self, delivery: &Delivery) -> bool {
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
