//! Small helpers shared by the benchmark and the chaos run.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

/// A free loopback port.
///
/// # Errors
/// When no port can be bound.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `work/keys` with a key pair made by `kick-relay keygen` (once).
///
/// # Errors
/// When the directory or the key cannot be made.
pub(crate) fn bench_keys(relay_bin: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(work)?;
    let keys = work.join("keys");
    if !keys.join("private.pem").exists() {
        let status = std::process::Command::new(relay_bin)
            .args(["keygen", "--out"])
            .arg(&keys)
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "kick-relay keygen failed");
    }
    Ok(keys)
}
