//! kick-api against a real HTTP server on 127.0.0.1 standing in for Kick.

#![allow(clippy::unwrap_used)]

mod coverage;
mod endpoints;
mod errors;
mod fake;
mod oauth;
mod retries;
mod tokens;
