#![doc = include_str!("../README.md")]

mod keys;
mod receiver;
mod recent;
mod rejection;
mod verify;

pub use self::{
    keys::KeyStore,
    receiver::{
        DEFAULT_MAX_AGE, DEFAULT_MAX_AHEAD, DEFAULT_MAX_BODY_BYTES, DEFAULT_RECENT_IDS, Received,
        Receiver,
    },
    rejection::Rejection,
    verify::{authenticate, read_body},
};
/// Re-exported from kick-verify: a key of your own for [`KeyStore::new`] (a test key, say), and
/// the timestamp window for [`Receiver::timestamp_window`].
pub use kick_verify::{PublicKey, Window};
