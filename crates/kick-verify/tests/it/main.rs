//! kick-verify's integration tests: every case runs on every compiled backend.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

mod freshness;
mod keys;
mod properties;
mod signatures;
mod support;
