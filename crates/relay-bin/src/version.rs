//! The build's version, for `--version`, the start-up log and the admin page.

/// The crate version and the git commit it was built from: `0.1.0 (<commit>)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KICK_RELAY_GIT_COMMIT"),
    ")"
);
