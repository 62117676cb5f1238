//! `relay-bench instructions`: what one event costs the relay in instructions, counted by
//! callgrind, so a change can be judged on a noisy machine without waiting for a quiet minute.
//! The release `kick-relay` runs under `valgrind --tool=callgrind`; exactly N distinct signed
//! deliveries are posted one at a time, then SIGTERM ends it. Two runs with different N give
//! the cost per event as a slope (start-up and shutdown cancel out); with no output that is the
//! ingest path (read, verify, parse, dedup, durable commit), and one raw output adds one
//! delivery (read the row, render, send, record the outcome).

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::process::Command;

use crate::{
    presign::{self, Signed},
    stand_in,
    util::{bench_keys, relay_config},
};

/// Options from the command line.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) relay_bin: PathBuf,
    pub(crate) work: PathBuf,
    /// The two event counts (the slope between them is the cost per event).
    pub(crate) counts: (usize, usize),
    pub(crate) out: Option<PathBuf>,
}

/// Instructions of one relay run under callgrind that accepted `events` deliveries (and, with
/// `output`, relayed them to it).
async fn run_once(
    o: &Options,
    keys: &Path,
    pool: &Arc<Vec<Signed>>,
    events: usize,
    output: Option<&str>,
) -> anyhow::Result<u64> {
    let name = format!("cg-{events}-{}", output.is_some());
    let db = o.work.join(format!("{name}.db"));
    crate::util::remove_sqlite_database(&db);
    let outputs = output.map_or_else(String::new, |url| {
        format!("[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{url}\"\nmax_in_flight = 1\n")
    });
    let database_url = format!("sqlite://{}", db.display());
    let (config, public, admin) = relay_config(&o.work, &name, keys, &database_url, &outputs)?;
    let counts = o.work.join(format!("{name}.callgrind"));
    let mut child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", counts.display()))
        .arg(&o.relay_bin)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("valgrind (Debian's valgrind package) runs")?;
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_mins(2);
    while !client
        .get(format!("http://127.0.0.1:{admin}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the relay under valgrind did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = format!("http://127.0.0.1:{public}/webhooks/kick");
    for signed in pool.iter().take(events) {
        let response = signed.post(&client, &url).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{}: {}",
            signed.message_id,
            response.status()
        );
    }
    if output.is_some() {
        // Every delivery sent and recorded before the relay stops.
        let deadline = Instant::now() + Duration::from_mins(5);
        loop {
            let metrics = client
                .get(format!("http://127.0.0.1:{admin}/metrics"))
                .send()
                .await?
                .text()
                .await?;
            let delivered = metrics
                .lines()
                .find(|l| {
                    l.starts_with("kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"}")
                })
                .and_then(|l| l.rsplit(' ').next()?.parse::<usize>().ok())
                .unwrap_or(0);
            if delivered >= events {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "deliveries not recorded: {delivered}/{events}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    tokio::time::timeout(Duration::from_mins(2), child.wait()).await??;
    let text =
        std::fs::read_to_string(&counts).with_context(|| format!("read {}", counts.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|n| n.trim().parse().ok())
        .context("no totals in the callgrind output")
}

/// Runs the four relays and prints (and writes) the Markdown section.
///
/// # Errors
/// valgrind missing, a relay that does not start, files that cannot be written.
pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    let keys = bench_keys(&o.relay_bin, &o.work)?;
    let (small, large) = o.counts;
    let pool = Arc::new(presign::load_or_make(
        &keys.join("private.pem"),
        &o.work.join("mixed-150000.jsonl"),
        150_000,
        false,
    )?);
    let (addr, _arrivals) = stand_in::start(([127, 0, 0, 1], 0).into()).await?;
    let raw = format!("http://{addr}/raw");
    let mut slopes = Vec::new();
    for output in [None, Some(raw.as_str())] {
        let a = run_once(&o, &keys, &pool, small, output).await?;
        let b = run_once(&o, &keys, &pool, large, output).await?;
        let per_event = b.saturating_sub(a) / u64::try_from(large - small).unwrap_or(1);
        println!(
            "{}: {a} instructions at {small} events, {b} at {large}: {per_event} per event",
            if output.is_some() {
                "one raw output"
            } else {
                "no outputs"
            }
        );
        slopes.push(per_event);
    }
    let (ingest, with_output) = (slopes[0], slopes[1]);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Instructions per event (`relay-bench instructions`, callgrind; the release kick-relay under \
         `valgrind --tool=callgrind`, {small} and then {large} distinct mixed deliveries posted one at a \
         time, the slope between the two runs; repeatable on a busy machine):\n\n\
         | path | instructions per event |\n|---|---|\n\
         | ingest: read, verify, parse, dedup, durable commit (no outputs) | {ingest} |\n\
         | ingest + one raw delivery (render, send, record) | {with_output} |\n\
         | one delivery (the difference) | {} |",
        with_output.saturating_sub(ingest)
    );
    print!("{report}");
    if let Some(out) = &o.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}
