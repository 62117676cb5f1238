//! Is the file at the database's path still the database this relay serves?
//!
//! A relay keeps its database open, so `rm kick-relay.db` under a running relay goes unseen by
//! SQLite: commits land in the deleted file, requests are answered `200`, and the next start
//! creates an empty database: undelivered events and the memory of message ids are gone, and
//! Kick's next retry of an acknowledged id is relayed twice. Three guards:
//!
//! - **While serving**, [`FileIdentity::check`] compares the path's device and inode with the
//!   file opened; the writer runs it after every commit (a `stat`, a few microseconds), so a
//!   group committed into a deleted file is answered as failed, and `/readyz` runs it too.
//!   Once it fails the store refuses every write, saying why.
//! - **At start**, a database missing where its `-wal` or `-shm` file or the relay's marker
//!   (`<database>.id`) says one existed is refused ([`check_before_open`]), unless the operator
//!   asks for an empty one (`serve --start-empty`).
//! - **The marker** holds the database's id (`meta.database_id`, made once at random): a file
//!   put in the database's place that is not the one served before is refused too
//!   ([`check_marker`]).

use std::{
    fs,
    io::Write as _,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use anyhow::{Context, bail};

/// The device and inode of the database file this relay opened, and whether its path still
/// names it.
#[derive(Debug)]
pub(in crate::store) struct FileIdentity {
    path: PathBuf,
    dev: u64,
    ino: u64,
    /// Why the path no longer names the open database (set once, never cleared).
    lost: OnceLock<String>,
    /// What became of the copy the writer made of the database it served, once lost.
    rescued: OnceLock<String>,
}

impl FileIdentity {
    /// The identity of the file at `path` now (right after it was opened).
    ///
    /// # Errors
    /// When the file cannot be read.
    pub(in crate::store) fn of(path: &Path) -> anyhow::Result<Self> {
        let meta = fs::metadata(path)
            .with_context(|| format!("cannot read the database file {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
            lost: OnceLock::new(),
            rescued: OnceLock::new(),
        })
    }

    /// Why the path no longer names the open database, once a check found it, with what
    /// became of the rescue copy.
    pub(in crate::store) fn lost(&self) -> Option<String> {
        let why = self.lost.get()?;
        Some(match self.rescued.get() {
            Some(rescued) => format!("{why} {rescued}"),
            None => why.clone(),
        })
    }

    /// Once lost: copies everything the open (deleted or replaced) database holds, committed
    /// WAL frames included, to `<database>.recovered-<unix ms>` with `VACUUM INTO`, once, on
    /// the writer's connection. The copy carries the database's id, so the relay starts on it
    /// when it is moved back into place.
    pub(in crate::store) fn rescue(&self, connection: &rusqlite::Connection) {
        if self.lost.get().is_none() || self.rescued.get().is_some() {
            return;
        }
        let copy = beside(
            &self.path,
            &format!(".recovered-{}", crate::clock::now_ms()),
        );
        let note = match connection.execute("VACUUM INTO ?1", [copy.to_string_lossy()]) {
            Ok(_) => {
                use std::os::unix::fs::PermissionsExt as _;
                let _ = fs::set_permissions(&copy, fs::Permissions::from_mode(0o600));
                tracing::warn!(copy = %copy.display(), "the database this relay served was copied");
                format!(
                    "Everything it held was copied to {copy}: stop the relay, remove {path}-wal and {path}-shm if they are still there (what they held is in the copy), move {copy} to {path} and start it again.",
                    copy = copy.display(),
                    path = self.path.display()
                )
            }
            Err(err) => {
                tracing::error!(error = %err, copy = %copy.display(), "the database this relay served could not be copied");
                let open = open_descriptor(&self.path).map_or_else(String::new, |fd| {
                    format!(
                        " The deleted file is still open in this process as {fd}: copy it somewhere safe before stopping the relay (`cp {fd} {}.recovered`).",
                        self.path.display()
                    )
                });
                format!("A copy to {} failed ({err}).{open}", copy.display())
            }
        };
        let _ = self.rescued.set(note);
    }

    /// `Ok` while the path still names the database opened; else why not, from then on.
    ///
    /// # Errors
    /// The file was deleted, moved or replaced.
    pub(in crate::store) fn check(&self) -> Result<(), String> {
        if let Some(why) = self.lost() {
            return Err(why);
        }
        let changed = match fs::metadata(&self.path) {
            Ok(meta) if meta.dev() == self.dev && meta.ino() == self.ino => return Ok(()),
            Ok(_) => "was replaced by another file",
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => "was deleted or moved",
            // Not a verdict on the file (a permission, an I/O error): the commit decides.
            Err(_) => return Ok(()),
        };
        let why = format!(
            "the database file {} {changed} while the relay was serving it: nothing more is accepted (503) so that nothing is acknowledged into a file that is gone.",
            self.path.display()
        );
        if self.lost.set(why.clone()).is_ok() {
            tracing::error!(database = %self.path.display(), "{why}");
        }
        Err(why)
    }
}

/// `/proc/<pid>/fd/<n>` of a descriptor this process holds on the deleted `path`, if any.
fn open_descriptor(path: &Path) -> Option<String> {
    let deleted = format!("{} (deleted)", absolute(path).display());
    fs::read_dir("/proc/self/fd")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let target = fs::read_link(entry.path()).ok()?;
            (target.as_os_str() == deleted.as_str()).then(|| {
                format!(
                    "/proc/{}/fd/{}",
                    std::process::id(),
                    entry.file_name().to_string_lossy()
                )
            })
        })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `path` with `suffix` appended to its file name (`relay.db` → `relay.db-wal`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The marker beside the database: `<database>.id`, holding its id.
pub(in crate::store) fn marker(path: &Path) -> PathBuf {
    beside(path, ".id")
}

/// Before `serve` opens `path`: a missing database whose `-wal`, `-shm` or marker file is still
/// there was deleted or moved, and is refused; with `start_empty` its stale `-wal` and `-shm`
/// are moved aside (never applied to a new database) and the start goes on.
///
/// # Errors
/// The database is missing where files beside it say one existed.
pub(in crate::store) fn check_before_open(path: &Path, start_empty: bool) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let left: Vec<PathBuf> = ["-wal", "-shm", ".id"]
        .iter()
        .map(|suffix| beside(path, suffix))
        .filter(|p| p.exists())
        .collect();
    if left.is_empty() {
        return Ok(());
    }
    let names = left
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !start_empty {
        bail!(
            "the database {} is missing, but {names} beside it say one was here: it was deleted or moved, and with it the deliveries not yet sent and the memory of message ids (starting empty would relay Kick's retries twice). Put the database back (from a backup), point storage.database_url at where it is now, or start with `kick-relay serve --start-empty` to begin with an empty database",
            path.display()
        );
    }
    let stamp = crate::clock::now_ms();
    for file in left
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".id"))
    {
        let aside = beside(file, &format!(".orphaned-{stamp}"));
        fs::rename(file, &aside).with_context(|| {
            format!(
                "cannot move {} aside to {}",
                file.display(),
                aside.display()
            )
        })?;
        tracing::warn!(file = %file.display(), moved_to = %aside.display(), "--start-empty: a file of the missing database moved aside");
    }
    tracing::warn!(database = %path.display(), "--start-empty: starting with an empty database although {names} said one existed");
    Ok(())
}

/// Creates the database file at `path`, when missing, readable and writable by its owner only
/// (0600, whatever the umask): it holds chat text, usernames and Kick's signed bodies. SQLite
/// gives its `-wal` and `-shm` files the database file's mode.
///
/// An existing file is left as it is; a file that cannot be created (a folder missing or
/// read-only) is left to SQLite's own open, which reports it with a reason.
pub(in crate::store) fn create_private(path: &Path) {
    let _ = private_file(path);
}

/// A new file at `path` with mode 0600 (fails if it exists).
pub(crate) fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// After `serve` opened the database at `path` with id `database_id`: refuses a database that
/// is not the one the marker names (another file put in its place) unless `start_empty`, then
/// writes the marker (durably: a new file renamed over the old, the folder synced).
///
/// # Errors
/// The marker names another database, or cannot be written.
pub(in crate::store) fn check_marker(
    path: &Path,
    database_id: &str,
    start_empty: bool,
) -> anyhow::Result<()> {
    let marker = marker(path);
    match fs::read_to_string(&marker) {
        Ok(text) if text.trim() == database_id => return Ok(()),
        Ok(text) if !start_empty => bail!(
            "the database {} is not the one this relay served: its id is {database_id}, and {} says {}. It was replaced (an older copy, another relay's file?): events acknowledged since would be missing and Kick's retries relayed twice. Put the right file back, or start with `kick-relay serve --start-empty` to take this one as it is",
            path.display(),
            marker.display(),
            text.trim()
        ),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", marker.display()));
        }
    }
    let fresh = beside(&marker, ".new");
    let _ = fs::remove_file(&fresh);
    let mut file =
        private_file(&fresh).with_context(|| format!("cannot write {}", fresh.display()))?;
    writeln!(file, "{database_id}")?;
    file.sync_all()?;
    fs::rename(&fresh, &marker).with_context(|| format!("cannot write {}", marker.display()))?;
    if let Some(dir) = absolute(path).parent()
        && let Ok(dir) = fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kick-relay-identity-{}-{}",
            std::process::id(),
            crate::store::database_id::new().unwrap()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_deleted_or_replaced_file_is_noticed_and_stays_noticed() {
        let dir = dir();
        let db = dir.join("relay.db");
        fs::write(&db, b"one").unwrap();
        let identity = FileIdentity::of(&db).unwrap();
        assert_eq!(identity.check(), Ok(()));
        fs::remove_file(&db).unwrap();
        let why = identity.check().unwrap_err();
        assert!(why.contains("was deleted or moved"), "{why}");
        fs::write(&db, b"two").unwrap();
        assert_eq!(identity.check().unwrap_err(), why, "once lost, always lost");

        let other = dir.join("other.db");
        fs::write(&other, b"x").unwrap();
        let identity = FileIdentity::of(&other).unwrap();
        fs::rename(&db, &other).unwrap();
        assert!(identity.check().unwrap_err().contains("was replaced"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_database_with_files_beside_it_is_refused_unless_asked() {
        let dir = dir();
        let db = dir.join("relay.db");
        check_before_open(&db, false).expect("a first start");
        fs::write(beside(&db, "-wal"), b"frames").unwrap();
        let err = check_before_open(&db, false).unwrap_err().to_string();
        assert!(
            err.contains("is missing") && err.contains("relay.db-wal"),
            "{err}"
        );
        assert!(err.contains("--start-empty"), "{err}");
        check_before_open(&db, true).unwrap();
        assert!(!beside(&db, "-wal").exists(), "moved aside, never applied");
        let aside: Vec<_> = fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(aside.len(), 1);
        assert!(
            aside[0]
                .file_name()
                .to_string_lossy()
                .starts_with("relay.db-wal.orphaned-")
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_marker_names_the_database_served() {
        let dir = dir();
        let db = dir.join("relay.db");
        check_marker(&db, "aaaa", false).unwrap();
        assert_eq!(fs::read_to_string(marker(&db)).unwrap(), "aaaa\n");
        check_marker(&db, "aaaa", false).unwrap();
        let err = check_marker(&db, "bbbb", false).unwrap_err().to_string();
        assert!(err.contains("is not the one this relay served"), "{err}");
        check_marker(&db, "bbbb", true).unwrap();
        assert_eq!(fs::read_to_string(marker(&db)).unwrap(), "bbbb\n");
        fs::write(&db, b"").unwrap();
        fs::remove_file(&db).unwrap();
        assert!(
            check_before_open(&db, false).is_err(),
            "the marker alone says it existed"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
