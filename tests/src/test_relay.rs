//! A relay started in-process on loopback ports with a real SQLite file.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU32, Ordering},
};

use relay_bin::{clock::Clock, config::Config, relay, running};

use crate::{KickSigner, TEST_PUBLIC_PEM, now_rfc3339};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A running relay and the files it uses.
#[derive(Debug)]
pub struct TestRelay {
    /// The running relay.
    pub running: Option<running::Running>,
    /// Its working directory (database, key, config).
    pub dir: PathBuf,
    /// Signs deliveries it accepts.
    pub signer: KickSigner,
    /// Whether `dir` was made for this relay (and is removed with it).
    owns_dir: bool,
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl TestRelay {
    /// A fresh directory under the system temp dir; the caller removes it (a relay from
    /// [`Self::start`] removes its own).
    ///
    /// # Panics
    /// When it cannot be created.
    pub fn fresh_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kick-relay-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        dir
    }

    /// Writes a config with loopback listeners on free ports, the test key, a database in
    /// `dir`, and `extra` TOML appended (outputs); returns its path.
    ///
    /// # Panics
    /// When the files cannot be written.
    pub fn write_config(dir: &std::path::Path, extra: &str) -> PathBuf {
        Self::write_config_with(dir, &[], extra)
    }

    /// [`Self::write_config`] with `[server]` keys set or replaced by `server`.
    ///
    /// # Panics
    /// When the files cannot be written.
    pub fn write_config_with(
        dir: &std::path::Path,
        server: &[(&str, &str)],
        extra: &str,
    ) -> PathBuf {
        use std::fmt::Write as _;
        std::fs::write(dir.join("public.pem"), TEST_PUBLIC_PEM).expect("write key");
        let mut keys = vec![
            ("listen", "\"127.0.0.1:0\""),
            ("shutdown_timeout_secs", "5"),
            ("body_timeout_secs", "1"),
            ("header_timeout_secs", "1"),
        ];
        for (key, value) in server {
            keys.retain(|(k, _)| k != key);
            keys.push((key, value));
        }
        let server = keys.iter().fold(String::new(), |mut all, (k, v)| {
            let _ = writeln!(all, "{k} = {v}");
            all
        });
        let config = format!(
            "[server]\n{server}[admin]\nlisten = \"127.0.0.2:0\"\n[kick]\npublic_key_file = \"{}\"\nrefresh_public_key = false\n[storage]\ndatabase_url = \"sqlite://{}\"\n{extra}",
            dir.join("public.pem").display(),
            dir.join("relay.db").display(),
        );
        let path = dir.join("relay.toml");
        std::fs::write(&path, config).expect("write config");
        path
    }

    /// Starts a relay in a fresh directory with `extra` TOML (outputs).
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start(extra: &str) -> Self {
        Self::start_fresh_with(&[], extra).await
    }

    /// [`Self::start`] with `[server]` keys set or replaced by `server`; the fresh directory is
    /// removed with the relay.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_fresh_with(server: &[(&str, &str)], extra: &str) -> Self {
        let mut relay = Self::start_with(Self::fresh_dir(), server, extra).await;
        relay.owns_dir = true;
        relay
    }

    /// Starts a relay in `dir` (reusing its database).
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_in(dir: PathBuf, extra: &str) -> Self {
        Self::start_with(dir, &[], extra).await
    }

    /// Starts a relay in a fresh directory (removed with it) whose admin actions need `token`.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_with_admin_token(token: &str, extra: &str) -> Self {
        let dir = Self::fresh_dir();
        let path = Self::write_config_with(&dir, &[], extra);
        let text = std::fs::read_to_string(&path).expect("the config just written");
        let text = text.replacen("[admin]\n", &format!("[admin]\ntoken = \"{token}\"\n"), 1);
        std::fs::write(&path, text).expect("write config");
        let mut relay = Self::start_from(dir, &path).await;
        relay.owns_dir = true;
        relay
    }

    /// Starts a relay in a fresh directory (removed with it) on the database `database_url`
    /// (a PostgreSQL replica, say) with `extra` TOML.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_on_database(database_url: &str, extra: &str) -> Self {
        Self::start_configured(Some(database_url), "", extra).await
    }

    /// Starts a relay in a fresh directory (removed with it), on `database_url` when given
    /// (else a SQLite file in the directory), with `kick` lines added to its `[kick]` table and
    /// `extra` TOML appended.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_configured(database_url: Option<&str>, kick: &str, extra: &str) -> Self {
        let dir = Self::fresh_dir();
        let path = Self::write_config_with(&dir, &[], extra);
        let mut text = std::fs::read_to_string(&path).expect("the config just written");
        if let Some(database_url) = database_url {
            let sqlite = format!(
                "database_url = \"sqlite://{}\"",
                dir.join("relay.db").display()
            );
            text = text.replacen(&sqlite, &format!("database_url = \"{database_url}\""), 1);
        }
        text = text.replacen("[kick]\n", &format!("[kick]\n{kick}"), 1);
        std::fs::write(&path, text).expect("write config");
        let mut relay = Self::start_from(dir, &path).await;
        relay.owns_dir = true;
        relay
    }

    /// Starts a relay in a fresh directory (removed with it) that reads the time from `clock`.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_with_clock(clock: Clock, extra: &str) -> Self {
        let dir = Self::fresh_dir();
        let path = Self::write_config_with(&dir, &[], extra);
        let mut relay = Self::start_from_with(dir, &path, clock).await;
        relay.owns_dir = true;
        relay
    }

    /// Starts a relay in `dir` (reusing its database) that reads the time from `clock`.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_in_with_clock(dir: PathBuf, clock: Clock, extra: &str) -> Self {
        let path = Self::write_config_with(&dir, &[], extra);
        Self::start_from_with(dir, &path, clock).await
    }

    /// Starts the relay of the config at `path`, working in `dir`.
    async fn start_from(dir: PathBuf, path: &std::path::Path) -> Self {
        Self::start_from_with(dir, path, Clock::system()).await
    }

    /// [`Self::start_from`] with `clock`.
    async fn start_from_with(dir: PathBuf, path: &std::path::Path, clock: Clock) -> Self {
        let (config, _) = Config::load(Some(path)).expect("a valid config");
        let relay = relay::Relay::with_clock(config, clock)
            .await
            .expect("relay set-up");
        let running = running::start(relay).await.expect("relay start");
        Self {
            running: Some(running),
            dir,
            signer: KickSigner::test_key(),
            owns_dir: false,
        }
    }

    /// Starts a relay in `dir` with `[server]` keys set or replaced by `server`.
    ///
    /// # Panics
    /// When the relay does not start.
    pub async fn start_with(dir: PathBuf, server: &[(&str, &str)], extra: &str) -> Self {
        let path = Self::write_config_with(&dir, server, extra);
        Self::start_from(dir, &path).await
    }

    /// The webhook URL.
    ///
    /// # Panics
    /// After shutdown.
    pub fn webhook_url(&self) -> String {
        format!(
            "http://{}/webhooks/kick",
            self.running.as_ref().expect("running").public_addr
        )
    }

    /// An admin URL.
    ///
    /// # Panics
    /// After shutdown.
    pub fn admin_url(&self, path: &str) -> String {
        format!(
            "http://{}{path}",
            self.running.as_ref().expect("running").admin_addr
        )
    }

    /// `GET path` on the admin listener: status and body.
    ///
    /// # Panics
    /// When the relay does not answer.
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(self.admin_url(path))
            .await
            .expect("the admin listener answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// The admin listener's `/metrics` text.
    ///
    /// # Panics
    /// When the admin listener does not answer.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.admin_url("/metrics"))
            .await
            .expect("the admin listener answers")
            .text()
            .await
            .expect("a text body")
    }

    /// Polls `/metrics` every 100 ms until its text contains `line` (e.g.
    /// `kick_relay_outbox_rows{output="raw",status="delivered"} 3`).
    ///
    /// # Panics
    /// When `limit` passes first (the last metrics text is in the message).
    pub async fn wait_for_metric(&self, line: &str, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let metrics = self.metrics().await;
            if metrics.contains(line) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {line:?} within {limit:?}:\n{metrics}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// POSTs a delivery signed with the test key; returns status and body.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post(&self, message_id: &str, event_type: &str, body: &[u8]) -> (u16, String) {
        let timestamp = now_rfc3339();
        let headers = self
            .signer
            .headers(message_id, &timestamp, event_type, body);
        self.post_with(&headers, body.to_vec()).await
    }

    /// POSTs the `n`th of a numbered series of `custom.event` deliveries (body `{"n":n}`,
    /// message id `prefix` followed by `n` zero-padded to a ULID's 26 characters, so the ids
    /// sort as sent); returns the status.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_numbered(&self, prefix: &str, n: usize) -> u16 {
        let width = 26usize.saturating_sub(prefix.len());
        let message_id = format!("{prefix}{n:0width$}");
        let body = format!("{{\"n\":{n}}}");
        self.post(&message_id, "custom.event", body.as_bytes())
            .await
            .0
    }

    /// POSTs a delivery signed with the test key as Kick sends it for `subscription_id` (each
    /// of an app's duplicate subscriptions gets its own copy, with its own message id).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_from(
        &self,
        subscription_id: &str,
        message_id: &str,
        event_type: &str,
        body: &[u8],
    ) -> (u16, String) {
        let timestamp = now_rfc3339();
        let mut headers = self
            .signer
            .headers(message_id, &timestamp, event_type, body);
        for (name, value) in &mut headers {
            if *name == "Kick-Event-Subscription-Id" {
                subscription_id.clone_into(value);
            }
        }
        self.post_with(&headers, body.to_vec()).await
    }

    /// POSTs with the given headers.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_with(&self, headers: &[(&str, String)], body: Vec<u8>) -> (u16, String) {
        let mut request = reqwest::Client::new().post(self.webhook_url()).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("the relay answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// Stops the relay gracefully.
    ///
    /// # Panics
    /// When shutdown fails.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
    }
}

/// A clock a test moves: the system's time plus however far [`TestClock::advance`] went. The
/// relay's waits on its clock (an open breaker's pause) end when it is moved past them.
#[derive(Clone, Debug, Default)]
pub struct TestClock {
    ahead: std::sync::Arc<std::sync::atomic::AtomicU64>,
    moved: std::sync::Arc<tokio::sync::Notify>,
}

impl TestClock {
    /// Moves this clock `by` forward.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.ahead
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
        self.moved.notify_waiters();
    }

    /// The relay's view of it.
    pub fn clock(&self) -> Clock {
        let ahead = std::sync::Arc::clone(&self.ahead);
        Clock::moved_by(
            move || {
                relay_bin::clock::now()
                    + std::time::Duration::from_millis(
                        ahead.load(std::sync::atomic::Ordering::SeqCst),
                    )
            },
            std::sync::Arc::clone(&self.moved),
        )
    }
}

/// The value of the first `/metrics` line starting with `line_start` (0 when there is none).
pub fn metric(metrics: &str, line_start: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
