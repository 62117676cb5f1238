//! What the chaos runs share: a relay under a harness that can kill it and start it again on
//! the same database, a load generator that logs what each message id got, and the answers it
//! logs (used by `chaos`, `chaos_pg` and `hostile`).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

use crate::presign::Signed;

/// What the load generator saw for one message id.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Answer {
    /// 200 (accepted or duplicate): the relay promised to deliver it.
    Acked,
    /// Another status: the relay promised nothing.
    Refused,
    /// No answer (connection cut by the kill): either is allowed.
    Unknown,
}

/// A cheap random number in `0..bound` (timing only, not security).
pub(crate) fn random_below(bound: u64) -> u64 {
    let nanos = u64::from(Instant::now().elapsed().subsec_nanos())
        ^ std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x % bound.max(1)
}

pub(crate) struct Harness {
    pub(crate) relay_bin: PathBuf,
    pub(crate) public: u16,
    pub(crate) admin: u16,
    pub(crate) config: PathBuf,
}

impl Harness {
    /// A fresh database `work/{name}.db` and config `work/{name}.toml`: free loopback ports,
    /// the bench key, and one raw output to `output_url` (plus `output_extra` TOML lines).
    pub(crate) fn prepare(
        relay_bin: &Path,
        work: &Path,
        name: &str,
        keys: &Path,
        output_url: &str,
        output_extra: &str,
    ) -> anyhow::Result<Self> {
        let db = work.join(format!("{name}.db"));
        crate::util::remove_sqlite_database(&db);
        let url = format!("sqlite://{}", db.display());
        Self::prepare_on(relay_bin, work, name, keys, &url, output_url, output_extra)
    }

    /// [`Self::prepare`] on the database `database_url` (which may be shared).
    pub(crate) fn prepare_on(
        relay_bin: &Path,
        work: &Path,
        name: &str,
        keys: &Path,
        database_url: &str,
        output_url: &str,
        output_extra: &str,
    ) -> anyhow::Result<Self> {
        let (config, public, admin) = crate::util::relay_config(
            work,
            name,
            keys,
            database_url,
            &format!(
                "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{output_url}\"\n{output_extra}"
            ),
        )?;
        Ok(Self {
            relay_bin: relay_bin.to_owned(),
            public,
            admin,
            config,
        })
    }

    pub(crate) fn spawn(&self) -> anyhow::Result<Child> {
        Ok(Command::new(&self.relay_bin)
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?)
    }

    pub(crate) async fn wait_up(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if reqwest::get(format!("http://127.0.0.1:{}/healthz", self.admin))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::bail!("the relay did not come up")
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks/kick", self.public)
    }
}

/// Sends requests from `pool[*next..]` with `concurrency` connections until `stop` is set,
/// recording what each got.
pub(crate) async fn load_until(
    url: &str,
    pool: &Arc<Vec<Signed>>,
    next: &Arc<AtomicUsize>,
    log: &Arc<Mutex<HashMap<String, Answer>>>,
    stop: &Arc<tokio::sync::Notify>,
    concurrency: usize,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (stop, stopped) = (Arc::clone(stop), Arc::clone(&stopped));
        tokio::spawn(async move {
            stop.notified().await;
            stopped.store(true, Ordering::SeqCst);
        })
    };
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, pool, next, log, stopped, url) = (
                client.clone(),
                Arc::clone(pool),
                Arc::clone(next),
                Arc::clone(log),
                Arc::clone(&stopped),
                url.to_owned(),
            );
            tokio::spawn(async move {
                while !stopped.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(r) = pool.get(i) else { break };
                    let answer = match r.post(&client, &url).send().await {
                        Ok(response) if response.status().is_success() => Answer::Acked,
                        Ok(_) => Answer::Refused,
                        Err(_) => Answer::Unknown,
                    };
                    if let Ok(mut log) = log.lock() {
                        log.insert(r.message_id.clone(), answer);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    watcher.abort();
}
