//! `relay-bench chaos --postgres`: two replicas on one PostgreSQL database behind a balancer,
//! 10 x kill -9 of a random replica (restarted at once), then PostgreSQL itself restarted
//! under load. Two outputs: `raw` (several requests in flight) and `ordered` (a forward output
//! with one request at a time, the way a Discord output sends). Checks: every acknowledged
//! delivery reaches both outputs; `ordered` receives a delivery acknowledged before another
//! was sent before it; repeats stay within the bound of the kills.

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Write as _,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::process::{Child, Command};

use crate::{
    chaos::Options,
    harness::{Harness, random_below},
    presign::{self, Signed},
    stand_in::{self, Arrivals},
    util::bench_keys,
};

/// Kill rounds (the number).
const KILLS: usize = 10;
/// Connections of the load generator, spread over both replicas.
const CONCURRENCY: usize = 16;

/// What the load generator saw for one delivery.
#[derive(Clone, Copy, Debug)]
struct Sent {
    /// When it was first sent.
    at: Instant,
    /// When a replica answered 200, if one did.
    acked: Option<Instant>,
    /// A replica answered something else (503 while the database was down).
    refused: bool,
}

type Log = Arc<Mutex<HashMap<String, Sent>>>;

/// Sends `pool[next..]` until `stop`, each request to its worker's replica and, when that
/// replica does not answer (killed), to the other one (a balancer's failover).
async fn load(
    urls: [String; 2],
    pool: Arc<Vec<Signed>>,
    next: Arc<AtomicUsize>,
    log: Log,
    stop: Arc<AtomicBool>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|k| {
            let (client, pool, next, log, stop, urls) = (
                client.clone(),
                Arc::clone(&pool),
                Arc::clone(&next),
                Arc::clone(&log),
                Arc::clone(&stop),
                urls.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(r) = pool.get(i) else { break };
                    let at = Instant::now();
                    let mut answer = None;
                    for url in [&urls[k % 2], &urls[(k + 1) % 2]] {
                        if let Ok(response) = r.post(&client, url).send().await {
                            answer = Some(response.status().is_success());
                            break;
                        }
                    }
                    let sent = Sent {
                        at,
                        acked: (answer == Some(true)).then(Instant::now),
                        refused: answer == Some(false),
                    };
                    if let Ok(mut log) = log.lock() {
                        log.insert(r.message_id.clone(), sent);
                    }
                    if answer == Some(false) {
                        // Refused (database down): back off a little, as Kick would.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
}

async fn kill(child: &mut Child, signal: &str) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
}

/// Pairs (A acknowledged before B was sent) that `ordered` received the other way round.
fn order_violations(log: &HashMap<String, Sent>, ordered: &[String]) -> usize {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (index, id) in ordered.iter().enumerate() {
        first.entry(id.as_str()).or_insert(index);
    }
    // Sweep deliveries by send time; `latest` is the largest arrival index among deliveries
    // acknowledged before the current one was sent.
    let mut by_ack: Vec<(Instant, usize)> = log
        .iter()
        .filter_map(|(id, s)| Some((s.acked?, *first.get(id.as_str())?)))
        .collect();
    by_ack.sort_unstable();
    let mut by_send: Vec<(Instant, usize)> = log
        .iter()
        .filter(|(_, s)| s.acked.is_some())
        .filter_map(|(id, s)| Some((s.at, *first.get(id.as_str())?)))
        .collect();
    by_send.sort_unstable();
    let (mut acked, mut latest, mut violations) = (0, None::<usize>, 0);
    for (sent_at, index) in by_send {
        while acked < by_ack.len() && by_ack[acked].0 < sent_at {
            latest = latest.max(Some(by_ack[acked].1));
            acked += 1;
        }
        if latest.is_some_and(|l| l > index) {
            violations += 1;
        }
    }
    violations
}

/// Runs the scenario and appends its table to the report.
///
/// # Errors
/// A relay or the cluster that does not start, or files that cannot be written.
#[allow(clippy::too_many_lines)]
pub(crate) async fn run(o: &Options) -> anyhow::Result<()> {
    let keys = bench_keys(&o.relay_bin, &o.work)?;
    let pool = Arc::new(presign::load_or_make(
        &keys.join("private.pem"),
        &o.work.join("mixed-150000.jsonl"),
        150_000,
        false,
    )?);
    let cluster = tokio::task::spawn_blocking(relay_tests::PgCluster::start_durable).await?;
    let database = cluster.new_database();
    let (addr, arrivals) = stand_in::start(([127, 0, 0, 1], 0).into()).await?;
    let outputs = format!(
        "retry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n\
         [[output]]\nname = \"ordered\"\ntype = \"forward\"\nurl = \"http://{addr}/ordered\"\nmax_in_flight = 1\n\
         retry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    );
    let harnesses: Vec<Harness> = (0..2)
        .map(|i| {
            Harness::prepare_on(
                &o.relay_bin,
                &o.work,
                &format!("chaos-pg-{i}"),
                &keys,
                &database,
                &format!("http://{addr}/raw"),
                &outputs,
            )
        })
        .collect::<anyhow::Result<_>>()?;
    let mut children = Vec::new();
    for harness in &harnesses {
        children.push(harness.spawn()?);
        harness.wait_up().await?;
    }
    let log: Log = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let urls = [harnesses[0].url(), harnesses[1].url()];
    let loader = tokio::spawn(load(
        urls,
        Arc::clone(&pool),
        Arc::clone(&next),
        Arc::clone(&log),
        Arc::clone(&stop),
    ));

    let mut kills = Vec::new();
    for round in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(500 + random_below(2000))).await;
        let victim = usize::try_from(random_below(2)).unwrap_or(0);
        kill(&mut children[victim], "-KILL").await;
        kills.push(victim);
        children[victim] = harnesses[victim].spawn()?;
        harnesses[victim]
            .wait_up()
            .await
            .with_context(|| format!("restart after kill {round}"))?;
    }
    // PostgreSQL itself goes down under load for 3 s (as in a crash: -m immediate).
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.stop();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.start_server();
    let down_for = down.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    let _ = loader.await;

    let (acked, refused) = {
        let log = log.lock().map_err(|_| anyhow::anyhow!("log poisoned"))?;
        let acked: BTreeSet<String> = log
            .iter()
            .filter(|(_, s)| s.acked.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        let refused = log.values().filter(|s| s.refused).count();
        (acked, refused)
    };
    let deadline = Instant::now() + Duration::from_mins(3);
    let delivered = |a: &Arrivals| {
        let ordered: BTreeSet<&String> = a.ordered.iter().collect();
        (
            acked.iter().filter(|id| a.raw.contains_key(*id)).count(),
            acked.iter().filter(|id| ordered.contains(id)).count(),
        )
    };
    loop {
        let (raw, ordered) = arrivals.lock().map_or((0, 0), |a| delivered(&a));
        if (raw == acked.len() && ordered == acked.len()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for child in &mut children {
        kill(child, "-TERM").await;
    }
    let a = arrivals
        .lock()
        .map_err(|_| anyhow::anyhow!("arrivals poisoned"))?;
    let (raw_delivered, ordered_delivered) = delivered(&a);
    let raw_lost = acked.len() - raw_delivered;
    let ordered_lost = acked.len() - ordered_delivered;
    let raw_repeats = a.raw_total.saturating_sub(a.raw.len() as u64);
    let distinct_ordered: BTreeSet<&String> = a.ordered.iter().collect();
    let ordered_repeats = (a.ordered.len() - distinct_ordered.len()) as u64;
    let violations = order_violations(
        &*log.lock().map_err(|_| anyhow::anyhow!("log poisoned"))?,
        &a.ordered,
    );
    // Per kill, an output repeats at most its uncommitted outcomes plus its sends in flight.
    let bound =
        |in_flight: usize| ((relay_bin::delivery::MAX_UNCOMMITTED + in_flight) * KILLS) as u64;
    let raw_bound = bound(relay_bin::config::DEFAULT_MAX_IN_FLIGHT);
    let ordered_bound = bound(1);

    let mut report = String::new();
    let date = relay_bin::clock::rfc3339(relay_bin::clock::now());
    let _ = writeln!(
        report,
        "### PostgreSQL chaos run of {date}\n\nCommand: `cargo xtask chaos --postgres`: two replicas on one \
         PostgreSQL database (fsync on), {CONCURRENCY} connections spread over both (a request a killed replica \
         does not answer goes to the other, as a balancer would), {KILLS} x kill -9 of a random replica \
         (killed: {kills:?}), each restarted at once; then PostgreSQL stopped (`-m immediate`) for {:.1} s \
         under load and started again, the relays left running. Outputs: `raw` (up to \
         {} requests in flight) and `ordered` (forward, one at a time, as a Discord output sends).\n",
        down_for.as_secs_f64(),
        relay_bin::config::DEFAULT_MAX_IN_FLIGHT
    );
    let _ = writeln!(
        report,
        "| output | acknowledged | lost | repeats (bound) | order violations |\n|---|---|---|---|---|\n\
         | raw | {} | {raw_lost} | {raw_repeats} ({raw_bound}) | n/a (concurrent) |\n\
         | ordered | {} | {ordered_lost} | {ordered_repeats} ({ordered_bound}) | {violations} |\n\n\
         Refused (503 while PostgreSQL was down; Kick retries these): {refused}.\n",
        acked.len(),
        acked.len()
    );
    print!("{report}");
    let existing = std::fs::read_to_string(&o.report).unwrap_or_default();
    let marker = "<!-- chaos runs: newest first -->";
    let updated = match existing.split_once(marker) {
        Some((head, tail)) => format!("{head}{marker}\n\n{report}\n{}", tail.trim_start()),
        None => format!("{existing}\n{marker}\n\n{report}"),
    };
    std::fs::write(&o.report, updated).with_context(|| format!("write {}", o.report.display()))?;
    anyhow::ensure!(
        raw_lost == 0
            && ordered_lost == 0
            && violations == 0
            && raw_repeats <= raw_bound
            && ordered_repeats <= ordered_bound,
        "PostgreSQL chaos checks failed: lost {raw_lost}/{ordered_lost}, order violations {violations}, repeats {raw_repeats}/{ordered_repeats}"
    );
    Ok(())
}
