//! One serving relay per SQLite database. Two relays on one file would both send every
//! delivery (each output's worker lives in memory), so `serve` holds an exclusive lock on
//! `<database>.lock` for as long as it runs and a second `serve` refuses to start, naming the
//! process that holds it. CLI commands (`outputs`, `replay`, `deliveries`) take no lock: they
//! are meant to run beside a serving relay.
//!
//! The lock is the operating system's (`flock`), so it goes away with the process however the
//! process ends; the file itself stays (like a PID file) and only says who had it last.

use std::{
    fs::{File, OpenOptions, TryLockError},
    io::{Read as _, Seek as _, Write as _},
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

/// The held lock; dropping it (or ending the process) releases it.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Locks `<database>.lock` beside the database file, or says who holds it. An in-memory
    /// database needs no lock (`None`).
    ///
    /// # Errors
    /// Another process serves this database, or the lock file cannot be written.
    pub fn acquire(database: Option<&Path>) -> anyhow::Result<Option<Self>> {
        let Some(database) = database else {
            return Ok(None);
        };
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|err| {
                let why = match err.kind() {
                    std::io::ErrorKind::ReadOnlyFilesystem => "the file system holding it is read-only; the relay must be able to write beside its database".to_owned(),
                    std::io::ErrorKind::PermissionDenied => "no permission to write it; run the relay as a user that may write the database's folder".to_owned(),
                    std::io::ErrorKind::NotFound => match path.parent() {
                        Some(dir) if !dir.as_os_str().is_empty() => format!(
                            "directory {} does not exist; create it, or point storage.database_url at an existing folder",
                            dir.display()
                        ),
                        _ => err.to_string(),
                    },
                    _ => err.to_string(),
                };
                anyhow::anyhow!("cannot open the lock file {}: {why}", path.display())
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another process".to_owned()
                } else {
                    format!("another kick-relay (pid {holder})")
                };
                bail!(
                    "{who} is already serving the database {}: two relays on one SQLite file would deliver everything twice. Stop it first, or give this relay its own storage.database_url",
                    database.display()
                );
            }
            Err(TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Some(Self { file, path }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_until_the_first_is_released() {
        let dir = std::env::temp_dir().join(format!("kick-relay-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("relay.db");
        let first = InstanceLock::acquire(Some(&database)).unwrap().unwrap();
        assert_eq!(first.path(), dir.join("relay.db.lock"));
        let err = InstanceLock::acquire(Some(&database))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())) && err.contains("relay.db"),
            "{err}"
        );
        drop(first);
        let again = InstanceLock::acquire(Some(&database)).unwrap();
        assert!(again.is_some());
        assert!(InstanceLock::acquire(None).unwrap().is_none());
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
