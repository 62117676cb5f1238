//! The load generator: fixed concurrency over keep-alive connections, a warm-up, then a fixed
//! measured duration; every answered request in the measured window is recorded (no sampling).
//! Closed loop by default: each worker sends its next request when the previous one answered.
//! With a rate, open loop: requests are due on a fixed schedule spread over the workers, and
//! latency counts from when a request was due, so a target that falls behind shows its queue
//! in the latencies instead of slowing the load down (no coordinated omission).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crate::presign::Signed;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Measured {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) duplicates: u64,
    pub(crate) seconds: f64,
    pub(crate) latencies_us: Vec<u32>,
    /// Send time of each measured message id (for delivery latency).
    pub(crate) sent_at: HashMap<String, Instant>,
    pub(crate) first_send: Option<Instant>,
}

impl Measured {
    pub(crate) fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }

    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies_us, p) / 1000.0
    }
}

/// The `p`-th percentile (0..=100) of sorted-on-demand microsecond values.
pub(crate) fn percentile(values: &[u32], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank.min(sorted.len() - 1)])
}

/// Runs `concurrency` workers against `url` for `warmup + duration`: closed loop, or at `rate`
/// requests per second in all when given.
pub(crate) async fn run(
    url: &str,
    requests: Arc<Vec<Signed>>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    rate: Option<f64>,
) -> Measured {
    run_spread(
        &[url.to_owned()],
        requests,
        concurrency,
        warmup,
        duration,
        rate,
    )
    .await
}

/// [`run`] with the workers spread over `urls` (worker k sends to `urls[k % len]`: replicas
/// behind a balancer).
pub(crate) async fn run_spread(
    urls: &[String],
    requests: Arc<Vec<Signed>>,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    rate: Option<f64>,
) -> Measured {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    // Open loop: request n (over all workers) is due at start + n / rate; worker k sends
    // requests k, k + c, k + 2c, …
    let interval = rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(concurrency as f64 / r));
    let workers: Vec<_> = (0..concurrency)
        .map(|k| {
            let (client, requests, next, url) = (
                client.clone(),
                Arc::clone(&requests),
                Arc::clone(&next),
                urls[k % urls.len()].clone(),
            );
            tokio::spawn(async move {
                let mut out = Measured::default();
                let mut due =
                    interval.map(|every| start + every.mul_f64(k as f64 / concurrency as f64));
                loop {
                    if let Some(at) = due {
                        tokio::time::sleep_until(at.into()).await;
                    }
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed) % requests.len();
                    let r = &requests[i];
                    let sent = Instant::now();
                    // Latency counts from when the request was due (open loop) or sent.
                    let from = due.unwrap_or(sent);
                    if let (Some(at), Some(every)) = (due, interval) {
                        due = Some(at + every);
                    }
                    let result = r.post(&client, &url).send().await;
                    let (ok, duplicate) = match result {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            let text = response.bytes().await.unwrap_or_default();
                            (ok, text.as_ref() == b"duplicate")
                        }
                        Err(_) => (false, false),
                    };
                    let done = Instant::now();
                    if from >= measure_from && done <= end {
                        out.requests += 1;
                        out.errors += u64::from(!ok);
                        out.duplicates += u64::from(duplicate);
                        out.latencies_us.push(
                            u32::try_from(done.duration_since(from).as_micros())
                                .unwrap_or(u32::MAX),
                        );
                        out.sent_at.insert(r.message_id.clone(), sent);
                        out.first_send = Some(out.first_send.map_or(sent, |f| f.min(sent)));
                    }
                }
                out
            })
        })
        .collect();
    let mut total = Measured {
        seconds: duration.as_secs_f64(),
        ..Measured::default()
    };
    for worker in workers {
        if let Ok(part) = worker.await {
            total.requests += part.requests;
            total.errors += part.errors;
            total.duplicates += part.duplicates;
            total.latencies_us.extend(part.latencies_us);
            total.sent_at.extend(part.sent_at);
            total.first_send = match (total.first_send, part.first_send) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    total
}

/// `relay-bench load`: loads `url` with the pre-signed set in `set` and prints what it measured.
///
/// # Errors
/// A set that cannot be read or holds nothing.
pub(crate) async fn from_file(
    url: &str,
    set: &std::path::Path,
    concurrency: usize,
    seconds: u64,
    rate: Option<f64>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(set)?;
    let requests: Vec<Signed> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    anyhow::ensure!(
        !requests.is_empty(),
        "{} holds no pre-signed requests",
        set.display()
    );
    let m = run(
        url,
        Arc::new(requests),
        concurrency,
        Duration::from_secs(1),
        Duration::from_secs(seconds),
        rate,
    )
    .await;
    println!(
        "{:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms  errors {}  duplicates {}",
        m.rps(),
        m.percentile_ms(50.0),
        m.percentile_ms(99.0),
        m.percentile_ms(99.9),
        m.percentile_ms(100.0),
        m.errors,
        m.duplicates
    );
    Ok(())
}
