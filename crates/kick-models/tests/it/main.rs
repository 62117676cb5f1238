//! kick-models integration tests.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

mod chat_tokens;
mod event_type;
mod headers;
mod official_payloads;
mod properties;
mod quirks;
mod unknown_events;
