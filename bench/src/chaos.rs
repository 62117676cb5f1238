//! `relay-bench chaos`: kill -9 the relay at random moments under load, restart it, and check
//! the load generator's log against what the output received; then the same with SIGTERM.

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex, atomic::AtomicUsize},
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::process::Command;

use crate::{
    harness::{Answer, Harness, load_until, random_below},
    presign::{self},
    stand_in,
    util::bench_keys,
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
