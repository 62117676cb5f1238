//! `relay-bench postgres`: ingest on PostgreSQL next to ingest on SQLite, and two replicas
//! sharing the load, on one pinned core. The relay (and PostgreSQL, when it is the store) run
//! on core 0, this load generator on core 1; each row starts on a fresh database and sends
//! distinct deliveries (the duplicates column says if any repeated). No outputs: this is the
//! ingest path (verify, parse, dedup, durable commit).

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use tokio::process::Child;

use crate::{
    load::{self, Measured},
    orchestrate::{cpu_seconds, stop, wait_port},
    presign::{self, Signed},
    util::{bench_keys, pin, pinned, relay_config},
};

/// Options from the command line.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) relay_bin: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) secs: u64,
    pub(crate) out: Option<PathBuf>,
}

/// Connections of the load generator.
const CONCURRENCY: usize = 64;
/// Warm-up before the measured window.
const WARMUP: Duration = Duration::from_secs(2);

/// `kick-relay serve` on core 0 with `database_url`, no outputs; its process and public port.
async fn relay(
    o: &Options,
    keys: &Path,
    name: &str,
    database_url: &str,
) -> anyhow::Result<(Child, u16)> {
    let (config, public, _) = relay_config(&o.work, name, keys, database_url, "")?;
    let child = pinned(0, &o.relay_bin)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    wait_port(public).await?;
    Ok((child, public))
}

struct Row {
    name: &'static str,
    measured: Measured,
    /// CPU seconds of the relay(s) and PostgreSQL in the measured window.
    cpu: f64,
}

impl Row {
    fn cpu_us_per_request(&self) -> f64 {
        if self.measured.requests == 0 {
            0.0
        } else {
            self.cpu * 1e6 / self.measured.requests as f64
        }
    }
}

/// CPU seconds used so far by `pids`.
fn cpu_of(pids: &[u32]) -> f64 {
    pids.iter().map(|p| cpu_seconds(&p.to_string())).sum()
}

/// Loads `urls` for the warm-up and the measured window; CPU of `pids` over the window.
async fn measure(
    urls: &[String],
    pool: &Arc<Vec<Signed>>,
    pids: Vec<u32>,
    secs: u64,
) -> (Measured, f64) {
    let before = {
        let pids = pids.clone();
        tokio::spawn(async move {
            tokio::time::sleep(WARMUP).await;
            cpu_of(&pids)
        })
    };
    let measured = load::run_spread(
        urls,
        Arc::clone(pool),
        CONCURRENCY,
        WARMUP,
        Duration::from_secs(secs),
        None,
    )
    .await;
    let cpu = cpu_of(&pids) - before.await.unwrap_or_default();
    (measured, cpu)
}

/// Runs the three rows and prints (and writes) the Markdown section.
///
/// # Errors
/// A target that does not start, or files that cannot be written.
pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    if !relay_tests::PgCluster::available() {
        let text = "PostgreSQL rows skipped: no PostgreSQL server binaries (install Debian's `postgresql`).\n";
        print!("{text}");
        if let Some(out) = &o.out {
            std::fs::write(out, text)?;
        }
        return Ok(());
    }
    pin(std::process::id(), 1).await;
    let keys = bench_keys(&o.relay_bin, &o.work)?;
    let pool_size = 200_000;
    let pool = Arc::new(presign::load_or_make(
        &keys.join("private.pem"),
        &o.work.join(format!("mixed-{pool_size}.jsonl")),
        pool_size,
        false,
    )?);
    let mut rows = Vec::new();

    let db = o.work.join("pg-bench-sqlite.db");
    crate::util::remove_sqlite_database(&db);
    let (child, port) = relay(
        &o,
        &keys,
        "pg-bench-sqlite",
        &format!("sqlite://{}", db.display()),
    )
    .await?;
    let pids = child.id().into_iter().collect();
    let (measured, cpu) = measure(&[url(port)], &pool, pids, o.secs).await;
    stop(child).await;
    rows.push(Row {
        name: "SQLite, one relay",
        measured,
        cpu,
    });

    let cluster = tokio::task::spawn_blocking(relay_tests::PgCluster::start_durable).await?;
    // Warm the server first: a fresh cluster creates and zero-fills each WAL segment file at
    // first use (commits then wait several times longer) until it has written `max_wal_size`
    // (1 GB); a running server recycles them. Writing that much once, then a checkpoint, leaves
    // the segments in place, as on a server that has run for a while.
    for pid in cluster.server_pids() {
        pin(pid, 0).await;
    }
    let warm = cluster.new_database();
    let warm = warm.rsplit('/').next().unwrap_or("postgres");
    let started = std::time::Instant::now();
    cluster.psql(
        warm,
        "CREATE TABLE warm AS SELECT repeat('x', 1000) AS pad FROM generate_series(1, 1100000); \
         DROP TABLE warm; CHECKPOINT;",
    );
    println!(
        "PostgreSQL warmed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for (name, replicas) in [
        ("PostgreSQL, one relay", 1),
        ("PostgreSQL, two replicas", 2),
    ] {
        let database = cluster.new_database();
        let mut children = Vec::new();
        let mut urls = Vec::new();
        for i in 0..replicas {
            let (child, port) = relay(&o, &keys, &format!("pg-bench-{i}"), &database).await?;
            children.push(child);
            urls.push(url(port));
        }
        let server = cluster.server_pids();
        for pid in &server {
            pin(*pid, 0).await;
        }
        let pids: Vec<u32> = children
            .iter()
            .filter_map(Child::id)
            .chain(server)
            .collect();
        let (measured, cpu) = measure(&urls, &pool, pids, o.secs).await;
        for child in children {
            stop(child).await;
        }
        rows.push(Row {
            name,
            measured,
            cpu,
        });
    }
    drop(cluster);

    let report = report(&rows, o.secs);
    print!("{report}");
    if let Some(out) = &o.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/webhooks/kick")
}

fn report(rows: &[Row], secs: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "PostgreSQL next to SQLite (`relay-bench postgres`, part of `cargo xtask bench`): ingest only \
         (no outputs), {CONCURRENCY} connections, {}s warm-up then {secs} s measured; the relay(s) and \
         PostgreSQL (fsync on, the server's defaults) pinned to core 0, the load generator to core 1; \
         a fresh database per row, distinct deliveries; the server first writes 1 GB of WAL \
         and checkpoints (a fresh cluster creates its WAL files at first use, a running one recycles them). CPU µs per request counts \
         the relays and the PostgreSQL server.\n",
        WARMUP.as_secs()
    );
    let _ = writeln!(
        out,
        "| store | req/s | p50 ms | p99 ms | errors | duplicates | CPU µs per request | req/s vs SQLite |\n|---|---|---|---|---|---|---|---|"
    );
    let sqlite = rows.first().map_or(0.0, |r| r.measured.rps());
    for row in rows {
        let m = &row.measured;
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {} | {} | {:.0} | {:.2} |",
            row.name,
            m.rps(),
            m.percentile_ms(50.0),
            m.percentile_ms(99.0),
            m.errors,
            m.duplicates,
            row.cpu_us_per_request(),
            if sqlite > 0.0 { m.rps() / sqlite } else { 0.0 }
        );
    }
    out
}
