//! `relay-bench all`: every target started fresh, alternating, at concurrency 1, 16, 64; the
//! report goes into docs/benchmarks/RUNS.md and, as the newest run, onto docs/BENCHMARKS.md.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::{
    io::AsyncBufReadExt,
    process::{Child, Command},
};

use crate::{
    load::{self, Measured, percentile},
    presign::{self, Signed},
    stand_in,
    util::{bench_keys, free_port, pin, pinned},
};

/// Options from the command line.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) quick: bool,
    pub(crate) relay_bin: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) report: PathBuf,
    pub(crate) summary: Option<PathBuf>,
    pub(crate) kickpy: PathBuf,
    pub(crate) extra: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Target {
    Ceiling,
    Relay,
    /// kick-relay with no outputs: ingest (verify, parse, dedup, durable commit) alone.
    RelayIngest,
    KickPy,
}

impl Target {
    const fn name(self) -> &'static str {
        match self {
            Self::Ceiling => "ceiling",
            Self::Relay => "kick-relay",
            Self::RelayIngest => "kick-relay, no outputs",
            Self::KickPy => "kickcom.py",
        }
    }
}

struct Row {
    concurrency: usize,
    target: Target,
    set: &'static str,
    measured: Measured,
    /// Open-loop rate (requests/s in all), or `None` for the closed loop.
    rate: Option<f64>,
    rss_mb: f64,
    /// Cores the target process used during the measured window.
    target_cores: f64,
    /// Cores this process (load generator, and the stand-in for kick-relay) used then.
    bench_cores: f64,
    delivery: Option<String>,
}

/// CPU time `pid` has used (`self` for this process), seconds: user + system from
/// `/proc/PID/stat` (fields 14 and 15, in clock ticks of 1/100 s).
pub(crate) fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of `pid`, MB (`VmHWM`).
pub(crate) fn peak_rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

pub(crate) async fn stop(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

pub(crate) async fn wait_port(port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("nothing listened on port {port} within 30 s")
}

/// One line of progress on the terminal.
fn print_row(row: &Row) {
    let concurrency = row.concurrency;
    let set = row.set;
    let target = row.target;
    let mode = row
        .rate
        .map(|r| format!(" at {r:.0}/s"))
        .unwrap_or_default();
    println!(
        "c={concurrency:<3}{mode} {:<11} {set:<5} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  errors {}  dup {}  rss {:.1} MB  cores {:.2} (bench {:.2})",
        target.name(),
        row.measured.rps(),
        row.measured.percentile_ms(50.0),
        row.measured.percentile_ms(99.0),
        row.measured.percentile_ms(100.0),
        row.measured.errors,
        row.measured.duplicates,
        row.rss_mb,
        row.target_cores,
        row.bench_cores
    );
    if let Some(d) = &row.delivery {
        println!("      delivery: {d}");
    }
}

/// Runs everything and writes the report.
///
/// # Errors
/// A target that does not start, or files that cannot be written.
pub(crate) async fn all(o: Options) -> anyhow::Result<()> {
    // Targets run on core 0; this process (load generator, stand-ins) on core 1.
    pin(std::process::id(), 1).await;
    let keys = bench_keys(&o.relay_bin, &o.work)?;
    // Pools large enough that no kick-relay row repeats a delivery up to ~33,000 req/s on one
    // core (it reached 25,676 without outputs on 2026-12-01, past the 150,000 of a quick run's
    // 6 s). The ceiling (~46,000/s) goes past them; it stores nothing, so a repeat costs it the
    // same. kick-relay answers a repeat `duplicate`, which its duplicates column counts.
    let (warmup, duration, pool) = if o.quick {
        (Duration::from_secs(1), Duration::from_secs(5), 200_000)
    } else {
        (Duration::from_secs(3), Duration::from_secs(15), 600_000)
    };
    println!(
        "pre-signing {pool} mixed and {pool} chat deliveries (cached in {})",
        o.work.display()
    );
    let mixed = Arc::new(presign::load_or_make(
        &keys.join("private.pem"),
        &o.work.join(format!("mixed-{pool}.jsonl")),
        pool,
        false,
    )?);
    let chat = Arc::new(presign::load_or_make(
        &keys.join("private.pem"),
        &o.work.join(format!("chat-{pool}.jsonl")),
        pool,
        true,
    )?);
    let python = kickpy_python(&o).await;
    if let Err(why) = &python {
        println!("kickcom.py target skipped: {why}");
    }

    let mut rows = Vec::new();
    for concurrency in [1, 16, 64] {
        for (target, set, requests) in [
            (Target::Ceiling, "mixed", &mixed),
            (Target::Relay, "mixed", &mixed),
            (Target::RelayIngest, "mixed", &mixed),
            (Target::Ceiling, "chat", &chat),
            (Target::Relay, "chat", &chat),
            (Target::KickPy, "chat", &chat),
        ] {
            if target == Target::KickPy && python.is_err() {
                continue;
            }
            let row = run_one(
                &o,
                target,
                set,
                Arc::clone(requests),
                concurrency,
                warmup,
                duration,
                python.as_ref().ok(),
                None,
            )
            .await?;
            print_row(&row);
            rows.push(row);
        }
    }
    // Sustained, open loop, both outputs: at half the rate kick-relay took in the closed loop at
    // c=64 (mixed), and at issue 15's target of 10,000 events/s; the delivery line says
    // whether both outputs had anything pending when the load stopped.
    let closed = rows
        .iter()
        .find(|r| r.concurrency == 64 && r.target == Target::Relay && r.set == "mixed")
        .map(|r| r.measured.rps())
        .filter(|rps| *rps > 0.0);
    for rate in closed
        .map(|c| (c / 2.0).round())
        .into_iter()
        .chain([10_000.0])
    {
        let row = run_one(
            &o,
            Target::Relay,
            "mixed",
            Arc::clone(&mixed),
            64,
            warmup,
            duration,
            None,
            Some(rate),
        )
        .await?;
        print_row(&row);
        rows.push(row);
    }
    write_report(&o, &rows, warmup, duration, python.err())
}

async fn kickpy_python(o: &Options) -> anyhow::Result<PathBuf> {
    let output = Command::new("bash")
        .arg(o.kickpy.join("setup.sh"))
        .arg(o.work.join("kickpy-venv"))
        .stderr(Stdio::piped())
        .output()
        .await?;
    if !output.status.success() {
        bail!(
            "setup.sh exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim(),
    ))
}

#[allow(clippy::too_many_arguments)]
async fn run_one(
    o: &Options,
    target: Target,
    set: &'static str,
    requests: Arc<Vec<Signed>>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    python: Option<&PathBuf>,
    rate: Option<f64>,
) -> anyhow::Result<Row> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}/webhooks/kick");
    let Started {
        child,
        stand_in,
        admin_port,
    } = start(o, target, set, concurrency, port, python).await?;
    wait_port(port).await?;
    let pid = child.id().unwrap_or(0).to_string();
    let cpu_at_start = {
        let pid = pid.clone();
        tokio::spawn(async move {
            tokio::time::sleep(warmup).await;
            (cpu_seconds(&pid), cpu_seconds("self"))
        })
    };
    let measured = load::run(&url, requests, concurrency, warmup, duration, rate).await;
    let (target_start, bench_start) = cpu_at_start.await.unwrap_or_default();
    let window = measured.seconds.max(f64::EPSILON);
    let target_cores = (cpu_seconds(&pid) - target_start) / window;
    let bench_cores = (cpu_seconds("self") - bench_start) / window;
    let delivery = match stand_in {
        Some(arrivals) => {
            let at_end = pending_by_output(admin_port).await;
            Some(delivery_report(&measured, &arrivals, admin_port, &at_end).await)
        }
        None => None,
    };
    let rss_mb = peak_rss_mb(&pid);
    stop(child).await;
    Ok(Row {
        concurrency,
        target,
        set,
        measured,
        rate,
        rss_mb,
        target_cores,
        bench_cores,
        delivery,
    })
}

/// A started target: its process, the raw stand-in's arrivals (kick-relay with outputs) and
/// the admin port (kick-relay).
struct Started {
    child: tokio::process::Child,
    stand_in: Option<Arc<std::sync::Mutex<stand_in::Arrivals>>>,
    admin_port: u16,
}

/// Starts `target` listening on `port`.
async fn start(
    o: &Options,
    target: Target,
    set: &'static str,
    concurrency: usize,
    port: u16,
    python: Option<&PathBuf>,
) -> anyhow::Result<Started> {
    let public = o.work.join("keys/public.pem");
    let mut stand_in = None;
    let mut admin_port = 0;
    let child = match target {
        Target::Ceiling => pinned(0, std::env::current_exe()?)
            .args(["ceiling", "--listen", &format!("127.0.0.1:{port}"), "--key"])
            .arg(&public)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()?,
        Target::Relay | Target::RelayIngest => {
            let (addr, arrivals) = stand_in::start(([127, 0, 0, 1], 0).into()).await?;
            let outputs = if target == Target::Relay {
                stand_in = Some(arrivals);
                format!(
                    "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"http://{addr}/raw\"\n\
                     [[output]]\nname = \"forward\"\ntype = \"forward\"\nurl = \"http://{addr}/ordered\"\n"
                )
            } else {
                String::new()
            };
            admin_port = free_port()?;
            let db = o
                .work
                .join(format!("relay-{concurrency}-{set}-{}.db", outputs.len()));
            crate::util::remove_sqlite_database(&db);
            let config = o.work.join("relay.toml");
            std::fs::write(
                &config,
                format!(
                    "[server]\nlisten = \"127.0.0.1:{port}\"\ntimestamp_tolerance_secs = 0\n[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\
                     [kick]\npublic_key_file = \"{}\"\n[storage]\ndatabase_url = \"sqlite://{}\"\nsynchronous = \"full\"\n{outputs}",
                    public.display(),
                    db.display()
                ),
            )?;
            pinned(0, &o.relay_bin)
                .arg("--config")
                .arg(&config)
                .arg("serve")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()?
        }
        Target::KickPy => {
            let python = python.context("no python")?;
            let mut child = pinned(0, python)
                .arg(o.kickpy.join("serve.py"))
                .arg("--public-key")
                .arg(&public)
                .args(["--port", &port.to_string(), "--path", "/webhooks/kick"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()?;
            if let Some(stdout) = child.stdout.take() {
                let mut lines = tokio::io::BufReader::new(stdout).lines();
                let _ = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            }
            child
        }
    };
    Ok(Started {
        child,
        stand_in,
        admin_port,
    })
}

/// Waits (up to 60 s) for the raw output to receive every measured event; reports rate,
/// ingest-to-delivery latency, what was pending when the load stopped (`at_end`) and what was
/// still pending after the wait.
async fn delivery_report(
    measured: &Measured,
    arrivals: &std::sync::Mutex<stand_in::Arrivals>,
    admin_port: u16,
    at_end: &str,
) -> String {
    let deadline = Instant::now() + Duration::from_mins(1);
    let wanted = measured.sent_at.len();
    loop {
        let got = arrivals.lock().map_or(0, |a| {
            measured
                .sent_at
                .keys()
                .filter(|id| a.raw.contains_key(*id))
                .count()
        });
        if got >= wanted || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pending = pending_rows(admin_port).await;
    let Ok(a) = arrivals.lock() else {
        return "stand-in poisoned".into();
    };
    let mut latencies = Vec::new();
    let mut last = None::<Instant>;
    for (id, sent) in &measured.sent_at {
        if let Some(at) = a.raw.get(id) {
            latencies.push(
                u32::try_from(at.saturating_duration_since(*sent).as_micros()).unwrap_or(u32::MAX),
            );
            last = Some(last.map_or(*at, |l| l.max(*at)));
        }
    }
    let span = match (measured.first_send, last) {
        (Some(first), Some(last)) => last.saturating_duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = if span > 0.0 {
        latencies.len() as f64 / span
    } else {
        0.0
    };
    format!(
        "{}/{} delivered to raw ({} requests to forward), {:.0} events/s from first POST to last arrival, ingest-to-delivery p50 {:.1} ms p99 {:.1} ms, pending when the load stopped: {at_end}, pending after drain: {pending}",
        latencies.len(),
        wanted,
        a.ordered.len(),
        rate,
        percentile(&latencies, 50.0) / 1000.0,
        percentile(&latencies, 99.0) / 1000.0,
    )
}

/// Pending outbox rows per output, from the relay's metrics; `None` when they cannot be read.
async fn pending(admin_port: u16) -> Option<Vec<(String, u64)>> {
    let response = reqwest::get(format!("http://127.0.0.1:{admin_port}/metrics"))
        .await
        .ok()?;
    let text = response.text().await.ok()?;
    Some(
        text.lines()
            .filter(|l| l.starts_with("kick_relay_outbox_rows") && l.contains("status=\"pending\""))
            .filter_map(|l| {
                let output = l.split("output=\"").nth(1)?.split('"').next()?;
                Some((output.to_owned(), l.rsplit(' ').next()?.parse().ok()?))
            })
            .collect(),
    )
}

/// Pending rows per output (`raw 0, discord 12`, or `none`).
async fn pending_by_output(admin_port: u16) -> String {
    match pending(admin_port).await {
        None => "unknown".into(),
        Some(rows) if rows.is_empty() => "none".into(),
        Some(rows) => rows
            .iter()
            .map(|(output, n)| format!("{output} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Pending rows of every output together.
async fn pending_rows(admin_port: u16) -> String {
    pending(admin_port).await.map_or_else(
        || "unknown".into(),
        |rows| rows.iter().map(|(_, n)| n).sum::<u64>().to_string(),
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    // The machine's cores, not this process's (it is pinned to one).
    let cores = std::fs::read_to_string("/proc/cpuinfo").map_or(0, |s| {
        s.lines().filter(|l| l.starts_with("processor")).count()
    });
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024 / 1024);
    format!("{cores} cores ({cpu}), {mem} GiB")
}

/// The results table: one line per target and concurrency.
fn write_table(run: &mut String, rows: &[Row]) {
    let _ = writeln!(
        run,
        "| c | target | set | req/s | p50 ms | p99 ms | max ms | errors | duplicates | peak RSS MB | target cores | target CPU µs/req | bench cores |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let m = &r.measured;
        let _ = writeln!(
            run,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {:.1} | {:.2} | {:.0} | {:.2} |",
            match r.rate {
                Some(rate) => format!("{}, open loop at {rate:.0}/s", r.concurrency),
                None => r.concurrency.to_string(),
            },
            r.target.name(),
            r.set,
            m.rps(),
            m.percentile_ms(50.0),
            m.percentile_ms(99.0),
            m.percentile_ms(100.0),
            m.errors,
            m.duplicates,
            r.rss_mb,
            r.target_cores,
            r.target_cores * 1e6 / m.rps().max(f64::EPSILON),
            r.bench_cores
        );
    }
}

fn write_report(
    o: &Options,
    rows: &[Row],
    warmup: Duration,
    duration: Duration,
    kickpy_skipped: Option<anyhow::Error>,
) -> anyhow::Result<()> {
    let mut run = String::new();
    let date = relay_bin::clock::rfc3339(relay_bin::clock::now());
    let command = if o.quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    let _ = writeln!(
        run,
        "### Run of {date}\n\n- Command: `{command}`; each target started fresh per line, in the order listed, concurrency 1, 16, 64; warm-up {}s, measured {}s.",
        warmup.as_secs(),
        duration.as_secs()
    );
    let _ = writeln!(
        run,
        "- Machine: {}. Each target pinned to core 0 (`taskset`; kick-relay's runtime sizes itself to that one core), the load generator and the output stand-in to core 1. CPU µs per request is the target's CPU time over the measured window divided by its requests.",
        machine()
    );
    let _ = writeln!(
        run,
        "- kick-relay: SQLite `synchronous=FULL`, two outputs (raw + forward) to a local 200 stand-in, so every event is relayed twice; ceiling: verify (aws-lc-rs) and 200. Every row sends distinct deliveries unless its duplicates column says otherwise."
    );
    if let Some(why) = kickpy_skipped {
        let _ = writeln!(run, "- kickcom.py skipped: {why}");
    }
    let _ = writeln!(
        run,
        "- Noise: a shared VM; compare ratios within this run, not absolute figures across runs.\n"
    );
    write_table(&mut run, rows);
    let _ = writeln!(
        run,
        "\nRatios measured in this run (req/s):\n\n| c | kick-relay / ceiling (mixed) | kick-relay / ceiling (chat) | kick-relay / kickcom.py (chat) | kick-relay, no outputs / ceiling (mixed) | kick-relay, no outputs (mixed) / kickcom.py (chat) |\n|---|---|---|---|---|---|"
    );
    for c in [1, 16, 64] {
        let rps = |t: Target, set: &str| {
            rows.iter()
                .find(|r| r.concurrency == c && r.target == t && r.set == set && r.rate.is_none())
                .map(|r| r.measured.rps())
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "n/a".into(),
        };
        let _ = writeln!(
            run,
            "| {c} | {} | {} | {} | {} | {} |",
            ratio(rps(Target::Relay, "mixed"), rps(Target::Ceiling, "mixed")),
            ratio(rps(Target::Relay, "chat"), rps(Target::Ceiling, "chat")),
            ratio(rps(Target::Relay, "chat"), rps(Target::KickPy, "chat")),
            ratio(
                rps(Target::RelayIngest, "mixed"),
                rps(Target::Ceiling, "mixed")
            ),
            ratio(
                rps(Target::RelayIngest, "mixed"),
                rps(Target::KickPy, "chat")
            ),
        );
    }
    let _ = writeln!(run, "\nEnd-to-end delivery (kick-relay rows):\n");
    for r in rows.iter().filter(|r| r.delivery.is_some()) {
        let _ = writeln!(
            run,
            "- c={}{} {}: {}",
            r.concurrency,
            r.rate
                .map(|rate| format!(", open loop at {rate:.0}/s"))
                .unwrap_or_default(),
            r.set,
            r.delivery.as_deref().unwrap_or("")
        );
    }
    if let Some(extra) = &o.extra
        && let Ok(text) = std::fs::read_to_string(extra)
    {
        let _ = writeln!(run, "\n{text}");
    }
    let existing = std::fs::read_to_string(&o.report).unwrap_or_default();
    let marker = "<!-- runs: newest first -->";
    let updated = match existing.split_once(marker) {
        Some((head, tail)) => format!("{head}{marker}\n\n{run}\n{}", tail.trim_start()),
        None => format!("# Benchmarks\n\n{marker}\n\n{run}"),
    };
    if let Some(parent) = o.report.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&o.report, updated).with_context(|| format!("write {}", o.report.display()))?;
    println!("report: {}", o.report.display());
    if let Some(summary) = &o.summary {
        show_newest(summary, &run)?;
        println!("newest run shown on {}", summary.display());
    }
    Ok(())
}

/// Replaces the block between `<!-- newest run -->` and `<!-- end of newest run -->` of the
/// page at `path` with `run`.
///
/// # Errors
/// A page that cannot be read or written, or has no such block.
fn show_newest(path: &Path, run: &str) -> anyhow::Result<()> {
    const START: &str = "<!-- newest run -->";
    const END: &str = "<!-- end of newest run -->";
    let page = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let (Some((head, _)), Some((_, tail))) = (page.split_once(START), page.split_once(END)) else {
        anyhow::bail!("{} has no {START} … {END} block", path.display());
    };
    std::fs::write(
        path,
        format!("{head}{START}\n\n{}\n\n{END}{tail}", run.trim()),
    )
    .with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::show_newest;

    #[test]
    fn the_newest_run_replaces_the_one_shown_and_nothing_else() {
        let page = std::env::temp_dir().join(format!("bench-summary-{}.md", std::process::id()));
        std::fs::write(
            &page,
            "# Benchmarks\n\ntext\n\n<!-- newest run -->\n\nold run\n\n<!-- end of newest run -->\n",
        )
        .unwrap();
        show_newest(&page, "### Run of now\n\n| a |\n").unwrap();
        let text = std::fs::read_to_string(&page).unwrap();
        assert_eq!(
            text,
            "# Benchmarks\n\ntext\n\n<!-- newest run -->\n\n### Run of now\n\n| a |\n\n<!-- end of newest run -->\n"
        );
        std::fs::write(&page, "# no block\n").unwrap();
        let err = show_newest(&page, "run").unwrap_err().to_string();
        assert!(err.contains("has no <!-- newest run -->"), "{err}");
        std::fs::remove_file(&page).unwrap();
    }
}
