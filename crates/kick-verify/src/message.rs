//! The three signed parts of a Kick delivery plus its signature, and the headers they come from.

/// The names of the headers a verification reads, as Kick writes them (HTTP header names match
/// case-insensitively). kick-models parses all six `Kick-Event-*` headers; these three are all a
/// verifier needs, so a user of this crate alone does not have to spell them.
///
/// ```
/// use kick_verify::{SignedMessage, header};
///
/// let request = [("kick-event-message-id", "01J"), ("kick-event-message-timestamp", "2025-02-21T23:23:36Z"), ("kick-event-signature", "c2ln")];
/// let get = |name: &str| request.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
/// let message = SignedMessage {
///     message_id: get(header::MESSAGE_ID).unwrap(),
///     timestamp: get(header::MESSAGE_TIMESTAMP).unwrap(),
///     body: b"{}",
///     signature_b64: get(header::SIGNATURE).unwrap(),
/// };
/// assert_eq!(message.message_id, "01J");
/// ```
pub mod header {
    /// The delivery's id, the first signed part.
    pub const MESSAGE_ID: &str = "Kick-Event-Message-Id";
    /// When Kick sent it (RFC 3339), the second signed part.
    pub const MESSAGE_TIMESTAMP: &str = "Kick-Event-Message-Timestamp";
    /// Base64 of the RSA PKCS#1 v1.5 SHA-256 signature.
    pub const SIGNATURE: &str = "Kick-Event-Signature";
}

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
