//! The `kick-relay` service as a library: configuration, store, ingest, delivery, admin, CLI.
//! `main.rs` only calls [`cli::main`]; tests start a [`relay::Relay`] in-process.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod ingest;
pub mod instance_lock;
pub mod metrics;
pub mod rejection;
pub mod relay;
pub mod samples;
pub mod serve;
pub mod store;
