//! relay-sinks integration tests: pure rendering (snapshots) and sending to a real HTTP server
//! on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod filter;
mod properties;
mod render_discord;
mod render_forward;
mod render_raw;
mod send;
mod signature;
mod support;
