#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod backend;
mod error;
mod freshness;
mod key;
mod kick_key;
mod message;

pub use self::{
    backend::Backend,
    error::{FreshnessError, KeyError, VerifyError},
    freshness::{Window, check_freshness, check_freshness_at, parse_timestamp},
    key::PublicKey,
    kick_key::{KICK_PUBLIC_KEY_PEM, KICK_PUBLIC_KEY_SPKI_SHA256},
    message::{SignedMessage, header},
};
