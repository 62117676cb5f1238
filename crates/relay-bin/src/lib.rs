//! The `kick-relay` service as a library: configuration, store, ingest, delivery, admin, CLI.
//! `main.rs` only calls [`cli::main`]; tests build a [`relay::Relay`] and start it in-process with
//! [`running::start`].

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod ingest;
pub mod instance_lock;
pub mod late_log;
pub mod lease;
pub mod leases;
pub mod metrics;
pub mod reconciler;
pub mod records;
pub mod rejection;
pub mod relay;
pub mod running;
pub mod samples;
pub mod serve;
pub mod store;
pub mod version;
