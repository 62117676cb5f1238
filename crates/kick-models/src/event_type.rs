//! The open set of Kick event type names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Generates [`EventType`] from the table in `event_table.rs`.
macro_rules! event_types {
    ($($variant:ident, $name:literal, $version:literal, $payload:ty, $what:literal;)*) => {
        /// A `Kick-Event-Type` value. Known names map to variants; any other name is kept in
        /// [`EventType::Unknown`] and written back unchanged, so new Kick events are data, not errors.
        ///
        /// ```
        /// use kick_models::EventType;
        ///
        /// assert_eq!(EventType::from("chat.message.sent"), EventType::ChatMessageSent);
        /// let new = EventType::from("channel.raid.started");
        /// assert_eq!(new, EventType::Unknown("channel.raid.started".into()));
        /// assert_eq!(new.as_str(), "channel.raid.started");
        /// ```
        #[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
        #[non_exhaustive]
        #[serde(from = "String", into = "String")]
        pub enum EventType {
            $(
                #[doc = concat!("`", $name, "`: ", $what, ".")]
                $variant,
            )*
            /// Any other name, kept verbatim.
            Unknown(String),
        }

        impl EventType {
            /// The event types Kick documents, in the docs' order.
            pub const KNOWN: [Self; [$($name),*].len()] = [$(Self::$variant),*];

            /// The name as Kick writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $name,)*
                    Self::Unknown(name) => name,
                }
            }

            /// `true` for [`EventType::Unknown`].
            pub const fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }

            /// The payload version this crate parses into a typed event, or `None` for an
            /// unknown type.
            pub const fn supported_version(&self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => Some($version),)*
                    Self::Unknown(_) => None,
                }
            }
        }

        impl From<&str> for EventType {
            fn from(name: &str) -> Self {
                match name {
                    $($name => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }
    };
}

// The variants, their names and versions: `event_table.rs`.
crate::for_each_kick_event!(event_types);

impl From<String> for EventType {
    fn from(name: String) -> Self {
        match Self::from(name.as_str()) {
            Self::Unknown(_) => Self::Unknown(name),
            known => known,
        }
    }
}

impl From<EventType> for String {
    fn from(event_type: EventType) -> Self {
        match event_type {
            EventType::Unknown(name) => name,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
