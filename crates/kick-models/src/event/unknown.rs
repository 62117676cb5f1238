//! Events this crate has no type for.

use serde_json::value::RawValue;

use crate::{EventType, ParseError};

/// An event whose type or version this crate does not know, kept as sent.
#[derive(Clone, Debug)]
pub struct UnknownEvent {
    /// The `Kick-Event-Type` value (a known type appears here when its version is new).
    pub event_type: EventType,
    /// The `Kick-Event-Version` value.
    pub version: String,
    /// The body's JSON value, byte for byte as sent (white space around the value excluded).
    pub body: Box<RawValue>,
}

impl UnknownEvent {
    /// Keeps `body` after checking that it is JSON.
    ///
    /// # Errors
    /// [`ParseError`] of kind `InvalidJson` when the body is not JSON.
    pub fn new(event_type: EventType, version: &str, body: &[u8]) -> Result<Self, ParseError> {
        let body = serde_json::from_slice::<Box<RawValue>>(body)
            .map_err(|err| ParseError::invalid_json(&event_type, version, &err))?;
        Ok(Self {
            event_type,
            version: version.to_owned(),
            body,
        })
    }
}

impl PartialEq for UnknownEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event_type == other.event_type
            && self.version == other.version
            && self.body.get() == other.body.get()
    }
}

impl Eq for UnknownEvent {}
