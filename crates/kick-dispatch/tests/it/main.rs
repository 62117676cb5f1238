//! kick-dispatch integration tests.

#![allow(clippy::unwrap_used)]

mod isolation;
mod lifecycle;
mod routing;
mod support;
