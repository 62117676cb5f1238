//! `relay-bench chaos`: kill -9 the relay at random moments under load, restart it, and check
//! the load generator's log against what the output received; then the same with SIGTERM.

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::process::{Child, Command};

use crate::{
    presign::{self, Signed},
    stand_in,
    util::{bench_keys, free_port},
};

/// Options from the command line.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) relay_bin: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) report: PathBuf,
    pub(crate) kills: usize,
    /// Only the hostile-load phase.
    pub(crate) hostile_only: bool,
}

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
        let (public, admin) = (free_port()?, free_port()?);
        let config = work.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:{public}\"\ntimestamp_tolerance_secs = 0\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
                 [kick]\npublic_key_file = \"{}\"\n[storage]\ndatabase_url = \"{database_url}\"\n\
                 [[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{output_url}\"\n{output_extra}",
                keys.join("public.pem").display(),
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

/// Runs the kill -9 rounds and the SIGTERM round, then writes the report.
///
/// # Errors
/// A relay that does not start, or files that cannot be written.
#[allow(clippy::too_many_lines)]
pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    let keys = bench_keys(&o.relay_bin, &o.work)?;
    let pool = Arc::new(presign::load_or_make(
        &keys.join("private.pem"),
        &o.work.join("mixed-150000.jsonl"),
        150_000,
        false,
    )?);
    let mut report = String::new();
    let date = relay_bin::clock::rfc3339(relay_bin::clock::now());
    let _ = writeln!(
        report,
        "### Chaos run of {date}\n\nCommand: `cargo xtask chaos` ({} kills).\n",
        if o.hostile_only { 0 } else { o.kills }
    );
    let _ = writeln!(
        report,
        "| scenario | runs | acknowledged | lost | duplicates at the output | refused but delivered |\n|---|---|---|---|---|---|"
    );
    let scenarios: &[(&str, &str, usize)] = if o.hostile_only {
        &[]
    } else {
        &[
            ("kill -9 under load", "-KILL", o.kills),
            ("SIGTERM under load", "-TERM", 3),
        ]
    };
    let mut failures = Vec::new();
    for &(scenario, signal, rounds) in scenarios {
        let (addr, arrivals) = stand_in::start(([127, 0, 0, 1], 0).into()).await?;
        let harness = Harness::prepare(
            &o.relay_bin,
            &o.work,
            &format!("chaos{signal}"),
            &keys,
            &format!("http://{addr}/raw"),
            "retry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n",
        )?;
        let log: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let next = Arc::new(AtomicUsize::new(0));
        for round in 0..rounds {
            let child = harness.spawn()?;
            harness
                .wait_up()
                .await
                .with_context(|| format!("round {round}"))?;
            let stop = Arc::new(tokio::sync::Notify::new());
            let load = {
                let (url, pool, next, log, stop) = (
                    harness.url(),
                    Arc::clone(&pool),
                    Arc::clone(&next),
                    Arc::clone(&log),
                    Arc::clone(&stop),
                );
                tokio::spawn(async move { load_until(&url, &pool, &next, &log, &stop, 16).await })
            };
            tokio::time::sleep(Duration::from_millis(200 + random_below(1500))).await;
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .status()
                    .await;
            }
            let mut child = child;
            let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
            stop.notify_waiters();
            stop.notify_one();
            let _ = load.await;
        }
        // A last start to deliver what is left, then wait for the output to have everything.
        let mut child = harness.spawn()?;
        harness.wait_up().await?;
        let acked: BTreeSet<String> = log
            .lock()
            .map(|l| {
                l.iter()
                    .filter(|(_, a)| **a == Answer::Acked)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let refused: BTreeSet<String> = log
            .lock()
            .map(|l| {
                l.iter()
                    .filter(|(_, a)| **a == Answer::Refused)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let deadline = Instant::now() + Duration::from_mins(2);
        loop {
            let delivered = arrivals.lock().map_or(0, |a| {
                acked.iter().filter(|id| a.raw.contains_key(*id)).count()
            });
            if delivered == acked.len() || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if let Some(pid) = child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        let (lost, duplicates, refused_delivered) = arrivals
            .lock()
            .map(|a| {
                let lost = acked.iter().filter(|id| !a.raw.contains_key(*id)).count();
                let refused_delivered = refused.iter().filter(|id| a.raw.contains_key(*id)).count();
                (
                    lost,
                    a.raw_total.saturating_sub(a.raw.len() as u64),
                    refused_delivered,
                )
            })
            .unwrap_or_default();
        println!(
            "{scenario}: {rounds} runs, {} acknowledged, lost {lost}, duplicates {duplicates}, refused-but-delivered {refused_delivered}",
            acked.len()
        );
        let _ = writeln!(
            report,
            "| {scenario} | {rounds} | {} | {lost} | {duplicates} | {refused_delivered} |",
            acked.len()
        );
        // One output: at most the outcomes waiting for a commit plus the sends in flight are
        // repeated per kill; none after SIGTERM.
        let allowed = if signal == "-KILL" {
            (relay_bin::delivery::MAX_UNCOMMITTED + relay_bin::config::DEFAULT_MAX_IN_FLIGHT) as u64
                * rounds as u64
        } else {
            0
        };
        if lost > 0 || refused_delivered > 0 || duplicates > allowed {
            failures.push(format!(
                "{scenario}: lost {lost}, refused-but-delivered {refused_delivered}, duplicates {duplicates} (allowed {allowed})"
            ));
        }
    }
    let hostile = crate::hostile::run(&o.relay_bin, &o.work, &keys, &pool, &mut report).await;
    let existing = std::fs::read_to_string(&o.report).unwrap_or_default();
    let marker = "<!-- chaos runs: newest first -->";
    let updated = match existing.split_once(marker) {
        Some((head, tail)) => format!("{head}{marker}\n\n{report}\n{}", tail.trim_start()),
        None => format!("{existing}\n{marker}\n\n{report}"),
    };
    std::fs::write(&o.report, updated).with_context(|| format!("write {}", o.report.display()))?;
    println!("report: {}", o.report.display());
    anyhow::ensure!(failures.is_empty(), "chaos checks failed: {failures:?}");
    hostile
}
