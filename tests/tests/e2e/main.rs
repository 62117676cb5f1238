//! End-to-end: signed Kick deliveries through header parsing, verification and parsing, and
//! through a real relay (real router on 127.0.0.1, real SQLite file) to stand-in outputs.

#![allow(clippy::unwrap_used)]

mod admin_hardening;
mod admin_page;
mod breaker;
mod browser;
mod config_errors;
mod dashboard;
mod database_identity;
mod delivery;
mod discord_limits;
mod drops;
mod hostile;
mod ingest;
mod late;
mod limits;
mod pg_upgrade;
mod readme_examples;
mod reconciler;
mod replicas;
mod signed_delivery;
mod storage;
mod store_suite;
mod unreadable;
