//! A throwaway PostgreSQL cluster for one test: `initdb` into a temporary folder, `pg_ctl start`
//! on a free loopback port, stopped and removed when dropped. It runs the server binaries
//! installed on the machine (Debian's `postgresql` package: `/usr/lib/postgresql/<n>/bin`, or
//! the folder `KICK_RELAY_PG_BIN` names), as the `postgres` user when the tests run as root
//! (the server refuses to run as root).
//!
//! The file stands alone (std only): relay-bin's binary tests include it with `#[path]`.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
};

static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);
static NEXT_CLUSTER: AtomicU32 = AtomicU32::new(0);

/// A running throwaway cluster.
#[derive(Debug)]
pub struct PgCluster {
    /// The folder holding the data directory, the socket and the log.
    dir: PathBuf,
    bin: PathBuf,
    /// Loopback port it listens on.
    pub port: u16,
    as_postgres: bool,
    /// Whether the server fsyncs (off for tests, on for benchmarks).
    fsync: bool,
}

impl PgCluster {
    /// Creates and starts a cluster (fsync off: a test needs crash safety of the server process,
    /// which the page cache gives, not of the machine).
    ///
    /// # Panics
    /// When the server binaries are missing (install Debian's `postgresql`; `.ci/run` does) or
    /// the cluster does not start (its log is printed).
    pub fn start() -> Self {
        Self::start_with_fsync(false)
    }

    /// [`Self::start`] with the server's default durability (fsync on), for benchmarks that
    /// compare it with SQLite's `synchronous = full`.
    ///
    /// # Panics
    /// As [`Self::start`].
    pub fn start_durable() -> Self {
        Self::start_with_fsync(true)
    }

    /// Whether the server binaries can be found (a benchmark skips PostgreSQL without them).
    pub fn available() -> bool {
        server_bin().is_some()
    }

    /// The server's processes now: the postmaster and its children (for pinning them to a core
    /// and reading their CPU time).
    pub fn server_pids(&self) -> Vec<u32> {
        let pid_file = self.dir.join("data").join("postmaster.pid");
        let Some(postmaster) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
        else {
            return Vec::new();
        };
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let parent = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| {
                    let rest = stat.rsplit_once(')')?.1.to_owned();
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                });
            if parent == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    fn start_with_fsync(fsync: bool) -> Self {
        let bin = server_bin().expect(
            "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install Debian's \
             `postgresql` package (.ci/run does) or set KICK_RELAY_PG_BIN to their folder",
        );
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "kick-relay-pg-{}-{}",
            std::process::id(),
            NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir for the cluster");
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "chown {} to postgres",
                dir.display()
            );
        }
        let cluster = Self {
            port: std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free loopback port")
                .port(),
            dir,
            bin,
            as_postgres,
            fsync,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// Starts the server again after [`Self::stop`] (same data, same port).
    ///
    /// # Panics
    /// When it does not start.
    pub fn start_server(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync={} -c max_connections=200",
            self.port,
            self.dir.display(),
            if self.fsync { "on" } else { "off" }
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &self.dir.join("server.log").display().to_string(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops the server at once (`-m immediate`: like a crash; it recovers at the next start).
    pub fn stop(&self) {
        let _ = self
            .command(
                "pg_ctl",
                &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new empty database and returns its URL.
    ///
    /// # Panics
    /// When it cannot be created.
    pub fn new_database(&self) -> String {
        let name = format!(
            "relay_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs `sql` in database `name` with `psql` and returns what it printed (unaligned,
    /// tuples only).
    ///
    /// # Panics
    /// When psql fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args).current_dir(&self.dir);
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program, args)
            .output()
            .expect("a server binary runs");
        if !output.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            panic!(
                "{program} failed: {}{}\n{log}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder holding `initdb` and `pg_ctl`: `KICK_RELAY_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<n>/bin`.
fn server_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KICK_RELAY_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
