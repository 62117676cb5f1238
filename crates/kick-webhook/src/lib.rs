#![doc = include_str!("../README.md")]

mod keys;
mod receiver;
mod recent;
mod rejection;

pub use self::{
    keys::KeyStore,
    receiver::{DEFAULT_MAX_BODY_BYTES, DEFAULT_RECENT_IDS, DEFAULT_TOLERANCE, Received, Receiver},
    rejection::Rejection,
};
