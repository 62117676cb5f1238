//! The second duplicate key of an event that is neither a chat message nor a Drops claim: a
//! hash of its type, version and body, matched for [`BODY_DEDUP_WINDOW`] against the copies
//! of other subscriptions.

use std::{fmt::Write as _, time::Duration};

use sha2::{Digest, Sha256};

/// Window in which an identical (type, version, body) under a new message id from *another*
/// subscription is a duplicate subscription's copy. Kick sends the copies of one occurrence
/// together, so they arrive within a second of each other; 30 s leaves room for Kick's own
/// queueing and a relay restart between them. It is kept short because a longer one only adds
/// ways to swallow a real repeat; a repeat from the same subscription is never matched.
pub const BODY_DEDUP_WINDOW: Duration = Duration::from_secs(30);

/// How a body key (an event that is neither a chat message nor a Drops claim) begins.
const BODY_KEY_PREFIX: &str = "body:";

/// The second key of an event that is neither a chat message nor a Drops claim: its type,
/// version and body, hashed (a duplicate subscription's copy has the same).
pub fn body_key(event_type: &str, version: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [
        event_type.as_bytes(),
        b"\0",
        version.as_bytes(),
        b"\0",
        body,
    ] {
        hash.update(part);
    }
    let mut key = String::with_capacity(BODY_KEY_PREFIX.len() + 64);
    key.push_str(BODY_KEY_PREFIX);
    for b in hash.finalize() {
        let _ = write!(key, "{b:02x}");
    }
    key
}

/// Whether `key` is a body key (not a chat message's or a Drops claim's id).
pub(super) fn is_body_key(key: &str) -> bool {
    key.starts_with(BODY_KEY_PREFIX)
}
