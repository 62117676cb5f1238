//! Typed event payloads, one file per event, and [`KickEvent`] that holds any of them.

mod ban;
mod chat_message;
mod follow;
mod gifts;
mod kicks_gifted;
mod livestream_metadata;
mod livestream_status;
mod reward_redemption;
mod subscription;
mod unknown;

use serde::{Serialize, Serializer, de::DeserializeOwned};

pub use self::{
    ban::{Ban, BanMetadata},
    chat_message::{ChatMessage, Emote, EmotePosition, Reply},
    follow::ChannelFollow,
    gifts::SubscriptionGifts,
    kicks_gifted::{KicksGift, KicksGifted},
    livestream_metadata::{Category, LivestreamMetadata, StreamMetadata},
    livestream_status::LivestreamStatus,
    reward_redemption::{RedemptionStatus, Reward, RewardRedemption},
    subscription::Subscription,
    unknown::UnknownEvent,
};
use crate::{EventType, ParseError, User};

/// Generates [`KickEvent`] from the table in `event_table.rs`.
macro_rules! kick_event {
    ($($variant:ident, $name:literal, $version:literal, $payload:ty, $what:literal;)*) => {
        /// One Kick event: a typed payload for each known `(type, version)`, or
        /// [`KickEvent::Unknown`] holding the JSON as sent.
        ///
        /// Serialising writes the payload (not a wrapper): the same JSON Kick sent, up to key
        /// order, white space and the `Category` spelling.
        #[derive(Clone, Debug, Eq, PartialEq)]
        #[non_exhaustive]
        pub enum KickEvent {
            $(
                #[doc = concat!("`", $name, "` v", $version, ": ", $what, ".")]
                $variant(Box<$payload>),
            )*
            /// A type or version this crate does not know, kept as sent.
            Unknown(UnknownEvent),
        }

        impl KickEvent {
            /// Parses a body given the `Kick-Event-Type` and `Kick-Event-Version` headers.
            ///
            /// An unknown type, or a known type with a version other than the one this crate
            /// reads, is not an error: it becomes [`KickEvent::Unknown`] with the JSON kept byte
            /// for byte.
            ///
            /// # Errors
            /// [`ParseError`] when the body is not JSON, or when a known `(type, version)` has a
            /// body that does not fit its schema; the error names the field (e.g.
            /// `sender.user_id`).
            ///
            /// # Examples
            /// ```
            /// use kick_models::{EventType, KickEvent};
            ///
            /// let body = br#"{"broadcaster":{"user_id":1,"username":"a","channel_slug":"a"},
            ///                 "follower":{"user_id":2,"username":"b","channel_slug":"b"}}"#;
            /// let event = KickEvent::from_parts(&EventType::ChannelFollowed, "1", body)?;
            /// let KickEvent::ChannelFollowed(follow) = &event else { unreachable!() };
            /// assert_eq!(follow.follower.username, "b");
            ///
            /// let later = KickEvent::from_parts(&EventType::ChannelFollowed, "2", body)?;
            /// assert!(matches!(later, KickEvent::Unknown(_)));
            /// # Ok::<(), kick_models::ParseError>(())
            /// ```
            pub fn from_parts(
                event_type: &EventType,
                version: &str,
                body: &[u8],
            ) -> Result<Self, ParseError> {
                if event_type.supported_version() != Some(version) {
                    return UnknownEvent::new(event_type.clone(), version, body).map(Self::Unknown);
                }
                let context = (event_type, version);
                Ok(match event_type {
                    $(EventType::$variant => Self::$variant(parse(context, body)?),)*
                    EventType::Unknown(_) => {
                        return UnknownEvent::new(event_type.clone(), version, body)
                            .map(Self::Unknown);
                    }
                })
            }

            /// The event's type.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(Self::$variant(_) => EventType::$variant,)*
                    Self::Unknown(unknown) => unknown.event_type.clone(),
                }
            }

            /// The channel the event happened in (`None` for unknown events).
            pub fn broadcaster(&self) -> Option<&User> {
                match self {
                    $(Self::$variant(e) => Some(&e.broadcaster),)*
                    Self::Unknown(_) => None,
                }
            }
        }

        impl Serialize for KickEvent {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(Self::$variant(e) => e.serialize(serializer),)*
                    Self::Unknown(e) => e.body.serialize(serializer),
                }
            }
        }
    };
}

// The variants, their payloads and versions: `event_table.rs`.
crate::for_each_kick_event!(kick_event);

/// Parses a known payload. The fast path is plain `serde_json`; only when the JSON does not fit
/// is the body parsed again with path tracking, so that the error names the field.
fn parse<T: DeserializeOwned>(
    (event_type, version): (&EventType, &str),
    body: &[u8],
) -> Result<Box<T>, ParseError> {
    serde_json::from_slice(body).map_err(|first| {
        if !first.is_data() {
            return ParseError::invalid_json(event_type, version, &first);
        }
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
            Err(err) => {
                ParseError::schema(event_type, version, err.path().to_string(), err.inner())
            }
            Ok(_) => ParseError::schema(event_type, version, ".".into(), &first),
        }
    })
}
