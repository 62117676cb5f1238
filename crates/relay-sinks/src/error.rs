//! Errors from building outputs and rendering events.

use std::fmt;

/// An output's configuration is unusable.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL does not parse, or is not `http`/`https`. The URL itself is never repeated (it
    /// may hold a token).
    Url(String),
    /// The signing secret is not `whsec_` + Base64 of 24 to 64 bytes.
    Secret(String),
    /// An event name in the selection is not known.
    Event(String),
    /// The HTTP client could not be built.
    Client(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(why) => write!(f, "invalid url: {why}"),
            Self::Secret(why) => write!(f, "invalid secret: {why}"),
            Self::Event(why) => write!(f, "invalid event selection: {why}"),
            Self::Client(why) => write!(f, "cannot build the HTTP client: {why}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// An event cannot be rendered for an output.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum RenderError {
    /// The output has no message for this event (e.g. Discord and an unknown event type).
    Unsupported(String),
    /// The output's JSON body could not be written.
    Serialize(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(what) => write!(f, "nothing to render: {what}"),
            Self::Serialize(why) => write!(f, "cannot write the JSON body: {why}"),
        }
    }
}

impl std::error::Error for RenderError {}
