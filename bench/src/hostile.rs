//! The hostile phase of `relay-bench chaos`: while signed deliveries keep coming, clients hold
//! more connections than `server.max_connections` with heads that never finish, declare 10 MiB
//! bodies, trickle 1 MiB bodies, send endless chunked bodies, 64 KiB heads and garbage. The
//! relay's resident memory is sampled throughout and compared with its documented bound, and
//! every acknowledged delivery must reach the output.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    harness::{Answer, Harness, load_until},
    presign::Signed,
    stand_in,
};

/// How long the attack lasts.
const ATTACK: Duration = Duration::from_secs(30);
/// Per served connection: its head buffer, a body small enough to need no reservation, and
/// 16 KiB for the connection's own state.
const PER_CONNECTION: u64 =
    relay_bin::serve::MAX_HEAD_BYTES as u64 + relay_bin::ingest::SMALL_BODY_BYTES + 16 * 1024;

/// The documented bound above the memory in use before the attack, with the relay's default
/// limits (this phase runs with them): `max_connections` × [`PER_CONNECTION`] plus
/// `max_buffered_body_bytes` twice (collecting a body that arrived in many chunks copies it
/// once).
fn bound_above_baseline_bytes(defaults: &relay_bin::config::ServerConfig) -> u64 {
    defaults.max_connections as u64 * PER_CONNECTION + 2 * defaults.max_buffered_body_bytes as u64
}

/// One kind of hostile client.
#[derive(Clone, Copy, Debug)]
enum Attack {
    /// A head that never ends, one byte a second.
    Slowloris,
    /// `Content-Length: 10485760`, then the bytes.
    TenMebibytes,
    /// 1 MiB + 1 byte, all sent.
    JustOverLimit,
    /// 1 MiB declared, 16 KiB every 250 ms.
    TrickledBody,
    /// Chunked, 1 KiB every 100 ms, never ending.
    EndlessChunked,
    /// A 64 KiB header.
    HugeHead,
    /// Bytes that are not HTTP.
    Garbage,
}

impl Attack {
    const ALL: [(Self, usize); 7] = [
        (Self::Slowloris, 1200),
        (Self::TenMebibytes, 16),
        (Self::JustOverLimit, 16),
        (Self::TrickledBody, 64),
        (Self::EndlessChunked, 32),
        (Self::HugeHead, 16),
        (Self::Garbage, 8),
    ];

    fn describe(self) -> &'static str {
        match self {
            Self::Slowloris => "head never finishes (1 byte/s)",
            Self::TenMebibytes => "10 MiB body",
            Self::JustOverLimit => "1 MiB + 1 body",
            Self::TrickledBody => "1 MiB body at 64 KiB/s",
            Self::EndlessChunked => "endless chunked body",
            Self::HugeHead => "64 KiB header",
            Self::Garbage => "not HTTP",
        }
    }

    /// One connection's worth of the attack; the status it got (0: closed without one).
    async fn once(self, addr: &str, until: Instant) -> u16 {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            return 0;
        };
        let head = |extra: &str| {
            format!("POST /webhooks/kick HTTP/1.1\r\nHost: relay\r\n{extra}\r\n").into_bytes()
        };
        // Write errors are expected (the relay answers and closes early); the answer counts.
        let _wrote_all = match self {
            Self::Slowloris => {
                let mut ok = stream
                    .write_all(b"POST /webhooks/kick HTTP/1.1\r\nHost: relay\r\n")
                    .await
                    .is_ok();
                while ok && Instant::now() < until {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    ok = stream.write_all(b"X").await.is_ok();
                }
                ok
            }
            Self::TenMebibytes | Self::JustOverLimit => {
                let length = if matches!(self, Self::TenMebibytes) {
                    10 << 20
                } else {
                    (1 << 20) + 1
                };
                let mut ok = stream
                    .write_all(&head(&format!("Content-Length: {length}\r\n")))
                    .await
                    .is_ok();
                let chunk = vec![b'a'; 64 * 1024];
                let mut left: usize = length;
                while ok && left > 0 {
                    let n = left.min(chunk.len());
                    ok = stream.write_all(&chunk[..n]).await.is_ok();
                    left -= n;
                }
                true
            }
            Self::TrickledBody => {
                let mut ok = stream
                    .write_all(&head("Content-Length: 1048576\r\n"))
                    .await
                    .is_ok();
                let chunk = vec![b'a'; 16 * 1024];
                while ok && Instant::now() < until {
                    ok = stream.write_all(&chunk).await.is_ok();
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                true
            }
            Self::EndlessChunked => {
                let mut ok = stream
                    .write_all(&head("Transfer-Encoding: chunked\r\n"))
                    .await
                    .is_ok();
                let chunk = format!("400\r\n{}\r\n", "a".repeat(1024));
                while ok && Instant::now() < until {
                    ok = stream.write_all(chunk.as_bytes()).await.is_ok();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                true
            }
            Self::HugeHead => stream
                .write_all(&head(&format!(
                    "X-Huge: {}\r\nContent-Length: 2\r\n\r\n{{}}",
                    "a".repeat(64 * 1024)
                )))
                .await
                .is_ok(),
            Self::Garbage => stream
                .write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n")
                .await
                .is_ok(),
        };
        let mut answer = [0_u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut answer))
            .await
            .map_or(0, |r| r.unwrap_or(0));
        String::from_utf8_lossy(&answer[..n])
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// Resident and peak memory of `pid`, KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs the hostile phase against a fresh relay and appends its section to `report`.
///
/// # Errors
/// A relay that does not start, or a bound that does not hold.
#[allow(clippy::too_many_lines)]
pub(crate) async fn run(
    relay_bin: &Path,
    work: &Path,
    keys: &Path,
    pool: &Arc<Vec<Signed>>,
    report: &mut String,
) -> anyhow::Result<()> {
    let (stand_in_addr, arrivals) = stand_in::start(([127, 0, 0, 1], 0).into()).await?;
    let harness = Harness::prepare(
        relay_bin,
        work,
        "hostile",
        keys,
        &format!("http://{stand_in_addr}/raw"),
        "",
    )?;
    let mut child = harness.spawn()?;
    harness.wait_up().await?;
    let pid = child.id().context("the relay's pid")?;

    // Signed deliveries before, during and after the attack (8 connections, established first).
    let log: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let stop_load = Arc::new(tokio::sync::Notify::new());
    let load = {
        let (url, pool, next, log, stop) = (
            harness.url(),
            Arc::clone(pool),
            Arc::clone(&next),
            Arc::clone(&log),
            Arc::clone(&stop_load),
        );
        tokio::spawn(async move { load_until(&url, &pool, &next, &log, &stop, 8).await })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, baseline_kib) = memory_kib(pid);

    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(Ordering::SeqCst) {
                peak = peak.max(memory_kib(pid).0);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        })
    };
    let until = Instant::now() + ATTACK;
    let addr = format!("127.0.0.1:{}", harness.public);
    let outcomes: Arc<Mutex<BTreeMap<(usize, u16), u64>>> = Arc::default();
    let mut attackers = Vec::new();
    for (kind, (attack, clients)) in Attack::ALL.into_iter().enumerate() {
        for _ in 0..clients {
            let (addr, outcomes) = (addr.clone(), Arc::clone(&outcomes));
            attackers.push(tokio::spawn(async move {
                while Instant::now() < until {
                    let status = attack.once(&addr, until).await;
                    if let Ok(mut o) = outcomes.lock() {
                        *o.entry((kind, status)).or_default() += 1;
                    }
                }
            }));
        }
    }
    for attacker in attackers {
        let _ = attacker.await;
    }
    let during = log.lock().map_or(0, |l| l.len());
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_load.notify_waiters();
    stop_load.notify_one();
    let _ = load.await;
    sampling.store(false, Ordering::SeqCst);
    let peak_rss_kib = sampler.await.unwrap_or(0);
    let (_, peak_hwm_kib) = memory_kib(pid);

    // Everything acknowledged reaches the output.
    let acked: Vec<String> = log.lock().map_or_else(
        |_| Vec::new(),
        |l| {
            l.iter()
                .filter(|(_, a)| **a == Answer::Acked)
                .map(|(id, _)| id.clone())
                .collect()
        },
    );
    let refused = log
        .lock()
        .map_or(0, |l| l.values().filter(|a| **a != Answer::Acked).count());
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut lost = acked.len();
    while Instant::now() < deadline {
        lost = arrivals.lock().map_or(acked.len(), |a| {
            acked.iter().filter(|id| !a.raw.contains_key(*id)).count()
        });
        if lost == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await;
    let exited = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;

    let defaults = relay_bin::config::ServerConfig::default();
    let bound_kib = baseline_kib + bound_above_baseline_bytes(&defaults) / 1024;
    let _ = writeln!(
        report,
        "\n#### Hostile load ({} s, {} hostile clients, default limits)\n",
        ATTACK.as_secs(),
        Attack::ALL.iter().map(|(_, n)| n).sum::<usize>()
    );
    let _ = writeln!(
        report,
        "| hostile client | connections | answers (status: count; 0 = closed without one) |\n|---|---|---|"
    );
    let outcomes = outcomes.lock().map(|o| o.clone()).unwrap_or_default();
    for (kind, (attack, clients)) in Attack::ALL.into_iter().enumerate() {
        let answers: Vec<String> = outcomes
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, status), n)| format!("{status}: {n}"))
            .collect();
        let _ = writeln!(
            report,
            "| {} | {clients} | {} |",
            attack.describe(),
            answers.join(", ")
        );
    }
    let fivexx: u64 = outcomes
        .iter()
        .filter(|((_, status), _)| (500..600).contains(status) && *status != 503)
        .map(|(_, n)| n)
        .sum();
    let _ = writeln!(
        report,
        "\nSigned deliveries (8 connections, through the attack): {} sent, {} acknowledged, {refused} refused \
         (non-2xx or cut), {lost} acknowledged but not delivered; {during} were answered before the attack ended.\n\
         Memory: {:.1} MiB before the attack, peak resident {:.1} MiB (VmHWM {:.1} MiB); \
         bound = before + {} connections × {} KiB + 2 × {} MiB of large bodies = {:.1} MiB. 5xx other than 503: {fivexx}. \
         Relay exited after SIGTERM: {}.",
        log.lock().map_or(0, |l| l.len()),
        acked.len(),
        kib_to_mib(baseline_kib),
        kib_to_mib(peak_rss_kib),
        kib_to_mib(peak_hwm_kib),
        defaults.max_connections,
        PER_CONNECTION / 1024,
        defaults.max_buffered_body_bytes >> 20,
        kib_to_mib(bound_kib),
        exited.is_ok()
    );
    println!(
        "hostile: peak RSS {:.1} MiB (bound {:.1} MiB), {} acknowledged, {lost} lost, 5xx other than 503: {fivexx}",
        kib_to_mib(peak_hwm_kib),
        kib_to_mib(bound_kib),
        acked.len()
    );
    anyhow::ensure!(
        lost == 0,
        "{lost} acknowledged deliveries never reached the output"
    );
    anyhow::ensure!(
        fivexx == 0,
        "hostile clients got {fivexx} 5xx answers other than 503"
    );
    anyhow::ensure!(
        peak_hwm_kib <= bound_kib,
        "peak memory {peak_hwm_kib} KiB is above the bound {bound_kib} KiB"
    );
    Ok(())
}

#[allow(clippy::cast_precision_loss)]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
