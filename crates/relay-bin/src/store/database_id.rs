//! A database's identity: an id made at random once and kept in `meta.database_id`, so a relay
//! can tell the database it served from another one put in its place (a SQLite file replaced,
//! a PostgreSQL database dropped and created again).

use std::fmt::Write as _;

/// Records `$1` as the database's id unless it has one (the same SQL on both backends).
pub(super) const RECORD: &str =
    "INSERT INTO meta (key, value) VALUES ('database_id', $1) ON CONFLICT (key) DO NOTHING";
/// The database's id.
pub(super) const READ: &str = "SELECT value FROM meta WHERE key = 'database_id'";

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
