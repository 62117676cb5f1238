//! Small helpers shared by the benchmark and the chaos run.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

/// Removes a SQLite database and every file beside it that belongs to it (its WAL, its
/// shared memory, its instance lock and its `.id` marker), so that a relay starts on a new,
/// empty one: a marker left behind would make it refuse, as it should for a deleted database.
pub(crate) fn remove_sqlite_database(db: &Path) {
    for suffix in ["", "-wal", "-shm", ".lock", ".id"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

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

/// Pins `pid` (all its threads) to `core` (`taskset -a -p -c`); the benchmark pins each target
/// to core 0 and itself (load generator, stand-ins) to core 1.
pub(crate) async fn pin(pid: u32, core: u32) {
    let _ = tokio::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &core.to_string(), &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .await;
}

/// A command that runs `program` pinned to `core` (`taskset -c core program`).
pub(crate) fn pinned(core: u32, program: impl AsRef<std::ffi::OsStr>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("taskset");
    command.args(["-c", &core.to_string()]).arg(program);
    command
}

/// A relay config `work/{name}.toml` on free loopback ports: the bench key, `database_url`,
/// no timestamp window (pre-signed deliveries may be old) and `outputs` (TOML) appended; the
/// file and the (public, admin) ports.
///
/// # Errors
/// No free port, or the file cannot be written.
pub(crate) fn relay_config(
    work: &Path,
    name: &str,
    keys: &Path,
    database_url: &str,
    outputs: &str,
) -> anyhow::Result<(PathBuf, u16, u16)> {
    let (public, admin) = (free_port()?, free_port()?);
    let config = work.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{public}\"\ntimestamp_tolerance_secs = 0\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
             [kick]\npublic_key_file = \"{}\"\nrefresh_public_key = false\n[storage]\ndatabase_url = \"{database_url}\"\n{outputs}",
            keys.join("public.pem").display()
        ),
    )?;
    Ok((config, public, admin))
}
