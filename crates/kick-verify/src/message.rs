//! The three signed parts of a Kick delivery plus its signature.

/// One Kick delivery as the signature sees it: the `Kick-Event-Message-Id` and
/// `Kick-Event-Message-Timestamp` header values exactly as received, the raw body bytes, and the
/// `Kick-Event-Signature` header value.
///
/// Kick signs `message_id + "." + timestamp + "." + body`; never pass a re-serialised body.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct SignedMessage<'a> {
    /// The `Kick-Event-Message-Id` header value, verbatim.
    pub message_id: &'a str,
    /// The `Kick-Event-Message-Timestamp` header value, verbatim.
    pub timestamp: &'a str,
    /// The raw request body, before any JSON parsing.
    pub body: &'a [u8],
    /// The `Kick-Event-Signature` header value: standard Base64 (padding optional).
    pub signature_b64: &'a str,
}

impl SignedMessage<'_> {
    /// The parts of the signed string, in order, without copying the body.
    pub(crate) fn signed_parts(&self) -> [&[u8]; 5] {
        [
            self.message_id.as_bytes(),
            b".",
            self.timestamp.as_bytes(),
            b".",
            self.body,
        ]
    }
}
