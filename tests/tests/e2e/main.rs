//! End-to-end: a signed Kick delivery goes through header parsing, signature verification and
//! payload parsing, as the relay's ingest will do it.

#![allow(clippy::unwrap_used)]

mod signed_delivery;
