//! A database's identity: an id made at random once and kept in `meta.database_id`, so a relay
//! can tell the database it served from another one put in its place (a SQLite file replaced,
//! a PostgreSQL database dropped and created again).

use std::fmt::Write as _;

/// A new database id: 16 random bytes as hex.
///
/// # Errors
/// When the system has no randomness to give.
pub(super) fn new() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|err| anyhow::anyhow!("no randomness for a database id: {err}"))?;
    Ok(bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    }))
}
