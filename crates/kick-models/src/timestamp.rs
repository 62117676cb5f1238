//! RFC 3339 timestamps that keep Kick's exact text.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// An RFC 3339 date-time as Kick sent it.
///
/// Kick's precision and offset vary between events and over time (`2025-01-14T16:08:06Z`,
/// `2025-10-20T04:00:08.634Z`, `2026-02-20T15:03:20.191347293Z`, `2025-01-01T11:00:00+11:00`).
/// Parsing validates the text and computes the instant; serialising writes the original text
/// back unchanged, so a payload round-trips byte for byte.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub struct Timestamp {
    text: Box<str>,
    unix_nanos: i128,
}

/// The text is not an RFC 3339 date-time.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct InvalidTimestamp {
    text: String,
}

impl fmt::Display for InvalidTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an RFC 3339 date-time (expected e.g. 2025-01-14T16:08:06Z)",
            self.text.chars().take(64).collect::<String>()
        )
    }
}

impl std::error::Error for InvalidTimestamp {}

impl Timestamp {
    /// Parses RFC 3339 text (0 to 9 fractional digits, `Z` or a numeric offset).
    ///
    /// # Errors
    /// [`InvalidTimestamp`] when the text is not RFC 3339.
    pub fn parse(text: &str) -> Result<Self, InvalidTimestamp> {
        let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| InvalidTimestamp {
            text: text.to_owned(),
        })?;
        Ok(Self {
            text: text.into(),
            unix_nanos: at.unix_timestamp_nanos(),
        })
    }

    /// The text exactly as Kick sent it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whole seconds since the Unix epoch (rounded towards negative infinity).
    pub fn unix_seconds(&self) -> i64 {
        i64::try_from(self.unix_nanos.div_euclid(1_000_000_000)).unwrap_or(i64::MAX)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(&self) -> i128 {
        self.unix_nanos
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimestampVisitor)
    }
}

/// Reads a timestamp from a borrowed or owned string without an intermediate allocation.
struct TimestampVisitor;

impl de::Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
        Timestamp::parse(text).map_err(E::custom)
    }
}
