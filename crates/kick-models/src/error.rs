//! Errors for payloads and headers. Each says what was wrong and where.

use std::fmt;

use crate::EventType;

/// A body that could not be parsed.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ParseError {
    kind: ParseErrorKind,
    event_type: EventType,
    version: String,
    field: Option<String>,
    message: String,
}

/// What kind of [`ParseError`] this is.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is not JSON.
    InvalidJson,
    /// The body is JSON but does not fit the known event's schema.
    Schema,
}

impl ParseError {
    pub(crate) fn invalid_json(
        event_type: &EventType,
        version: &str,
        err: &serde_json::Error,
    ) -> Self {
        Self {
            kind: ParseErrorKind::InvalidJson,
            event_type: event_type.clone(),
            version: version.to_owned(),
            field: None,
            message: err.to_string(),
        }
    }

    pub(crate) fn schema(
        event_type: &EventType,
        version: &str,
        path: String,
        err: &serde_json::Error,
    ) -> Self {
        Self {
            kind: ParseErrorKind::Schema,
            event_type: event_type.clone(),
            version: version.to_owned(),
            field: (path != ".").then_some(path),
            message: err.to_string(),
        }
    }

    /// The kind of failure.
    pub const fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The event type the body was parsed as.
    pub const fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// The dotted path of the field that failed (`sender.user_id`, `giftees[0].username`);
    /// `None` when the failure is at the top level (for example a missing top-level field,
    /// which the message names).
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}: ", self.event_type, self.version)?;
        match (&self.kind, &self.field) {
            (ParseErrorKind::InvalidJson, _) => {
                write!(f, "body is not valid JSON: {}", self.message)
            }
            (_, Some(field)) => write!(f, "field `{field}`: {}", self.message),
            (_, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// A `Kick-Event-*` header is missing or unusable.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum HeaderError {
    /// The header is absent.
    Missing(&'static str),
    /// The header appears more than once (ambiguous, so refused).
    Duplicate(&'static str),
    /// The header is empty, not visible ASCII, or too long.
    Malformed {
        /// The header name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl HeaderError {
    /// The header concerned.
    pub const fn header(&self) -> &'static str {
        match self {
            Self::Missing(name) | Self::Duplicate(name) | Self::Malformed { name, .. } => name,
        }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(name) => write!(f, "missing header {name}"),
            Self::Duplicate(name) => write!(f, "header {name} appears more than once"),
            Self::Malformed { name, reason } => write!(f, "malformed header {name}: {reason}"),
        }
    }
}

impl std::error::Error for HeaderError {}
