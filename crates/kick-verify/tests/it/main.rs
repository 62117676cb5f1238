//! kick-verify's integration tests: every case runs on every compiled backend.

mod freshness;
mod keys;
mod properties;
mod signatures;
mod support;
