//! `relay-bench discord`: a Discord output against a stand-in with Discord's limits (bucket,
//! hidden channel limit, global limit, payload limits), the relay in-process on a real SQLite
//! file. Two scenarios, both from issue 13:
//!
//! - **steady + raid**: 10 chat messages a second for `secs` seconds, then 300 at once. Reports
//!   the steady part's lag (ingest to Discord) p50/p99/max, how long after the raid its last
//!   message arrived, and 429s and 400s against requests.
//! - **overload**: 50 chat messages of ~200 characters a second for `secs` seconds with a follow
//!   every 10 s. Reports the largest lag of a delivered line against `max_lag_secs` + 10 s, and
//!   whether every chat message was delivered or recorded as skipped (and announced), and
//!   every follow delivered.

use std::{
    fmt::Write as _,
    time::{Duration, Instant},
};

use relay_tests::{DiscordStandIn, Posted, TestRelay, discord::Counts};
use serde_json::Value;

const CHAT_TEMPLATE: &str = include_str!("../../fixtures/kick/payloads/chat.message.sent.v1.json");
const FOLLOW_TEMPLATE: &str = include_str!("../../fixtures/kick/payloads/channel.followed.v1.json");

fn chat(n: usize, text: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_str(CHAT_TEMPLATE).unwrap_or_default();
    body["message_id"] = format!("00000000-0000-4000-8000-{n:012}").into();
    body["content"] = text.into();
    body["emotes"] = Value::Null;
    body["sender"]["username"] = format!("v{n}").into();
    serde_json::to_vec(&body).unwrap_or_default()
}

fn follow(n: usize) -> Vec<u8> {
    let mut body: Value = serde_json::from_str(FOLLOW_TEMPLATE).unwrap_or_default();
    body["follower"]["username"] = format!("follower{n}").into();
    serde_json::to_vec(&body).unwrap_or_default()
}

/// (chat number, when Discord took it) for every chat line delivered.
fn delivered(posted: &[Posted]) -> Vec<(usize, Instant)> {
    let number =
        |line: &str| -> Option<usize> { line.strip_prefix("**v")?.split('*').next()?.parse().ok() };
    let mut out = Vec::new();
    for p in posted {
        if let Some(sender) = p
            .username
            .as_deref()
            .and_then(|u| u.strip_suffix(" @ Kick"))
        {
            if let Some(n) = sender.strip_prefix('v').and_then(|n| n.parse().ok()) {
                out.push((n, p.at));
            }
            continue;
        }
        out.extend(p.content.lines().filter_map(number).map(|n| (n, p.at)));
    }
    out
}

/// The skipped counts announced in posted messages.
fn announced(posted: &[Posted]) -> usize {
    posted
        .iter()
        .flat_map(|p| p.content.lines())
        .filter_map(|l| {
            l.strip_prefix("… ")?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() - 1) as f64 * p / 100.0).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

async fn post(relay: &TestRelay, id: String, event_type: &str, body: &[u8]) -> anyhow::Result<()> {
    let (status, text) = relay.post(&id, event_type, body).await;
    anyhow::ensure!(status == 200, "{event_type} {id}: {status} {text}");
    Ok(())
}

fn counts_line(counts: Counts) -> String {
    format!(
        "{} requests, {} 429s ({:.1} %, {} for the channel), {} 400s",
        counts.requests,
        counts.rate_limited,
        100.0 * counts.rate_limited as f64 / counts.requests.max(1) as f64,
        counts.shared_scope,
        counts.bad_requests
    )
}

/// Runs both scenarios for `secs` seconds each; the report as Markdown.
pub(crate) async fn run(secs: u64) -> anyhow::Result<String> {
    let mut report = String::from(
        "Discord lag against a stand-in with Discord's limits (`relay-bench discord`):\n\n",
    );
    steady_and_raid(secs, &mut report).await?;
    overload(secs, &mut report).await?;
    Ok(report)
}

async fn steady_and_raid(secs: u64, report: &mut String) -> anyhow::Result<()> {
    let discord = DiscordStandIn::start().await;
    let mut relay = TestRelay::start(&format!(
        "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{}\"\n",
        discord.url()
    ))
    .await;
    let steady = usize::try_from(secs * 10)?;
    let mut sent_at = Vec::with_capacity(steady + 300);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for n in 0..steady {
        tick.tick().await;
        sent_at.push(Instant::now());
        post(
            &relay,
            format!("01JSTEADY{n:017}"),
            "chat.message.sent",
            &chat(n, &format!("steady message {n}, a few words long")),
        )
        .await?;
    }
    let raid_at = Instant::now();
    for n in steady..steady + 300 {
        sent_at.push(Instant::now());
        post(
            &relay,
            format!("01JSTEADY{n:017}"),
            "chat.message.sent",
            &chat(n, "raid hype"),
        )
        .await?;
    }
    let total = steady + 300;
    let posted = discord
        .wait_until(Duration::from_mins(3), |p| {
            delivered(p).len() + announced(p) >= total
        })
        .await;
    let lines = delivered(&posted);
    let mut steady_lags: Vec<Duration> = lines
        .iter()
        .filter(|(n, _)| *n < steady)
        .map(|(n, at)| at.duration_since(sent_at[*n]))
        .collect();
    steady_lags.sort();
    let raid_done = lines
        .iter()
        .filter(|(n, _)| *n >= steady)
        .map(|(_, at)| at.duration_since(raid_at))
        .max()
        .unwrap_or_default();
    let in_order = lines.windows(2).all(|w| w[0].0 < w[1].0);
    let _ = writeln!(
        report,
        "- steady + raid: {secs} s at 10 chat messages/s, then 300 at once: {}/{total} delivered \
         in {} Discord messages, in order: {in_order}; steady lag p50 {:.1} s, p99 {:.1} s, max \
         {:.1} s; the raid's last line {:.1} s after the raid; skipped {}; {}",
        lines.len(),
        posted.len(),
        percentile(&steady_lags, 50.0).as_secs_f64(),
        percentile(&steady_lags, 99.0).as_secs_f64(),
        steady_lags
            .last()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
        raid_done.as_secs_f64(),
        announced(&posted),
        counts_line(discord.counts())
    );
    relay.stop().await;
    Ok(())
}

async fn overload(secs: u64, report: &mut String) -> anyhow::Result<()> {
    let discord = DiscordStandIn::start().await;
    let max_lag = 60;
    let mut relay = TestRelay::start(&format!(
        "[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{}\"\nmax_lag_secs = {max_lag}\n",
        discord.url()
    ))
    .await;
    let filler = "x".repeat(185);
    let count = usize::try_from(secs * 50)?;
    let mut sent_at = Vec::with_capacity(count);
    let mut follows = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for n in 0..count {
        tick.tick().await;
        sent_at.push(Instant::now());
        post(
            &relay,
            format!("01JOVERLOAD{n:015}"),
            "chat.message.sent",
            &chat(n, &format!("{n} {filler}")),
        )
        .await?;
        if n % 500 == 499 {
            post(
                &relay,
                format!("01JOVERFOLLOW{follows:013}"),
                "channel.followed",
                &follow(follows),
            )
            .await?;
            follows += 1;
        }
    }
    let posted = discord
        .wait_until(Duration::from_secs(u64::try_from(max_lag)? + 60), |p| {
            delivered(p).len() + announced(p) >= count
                && p.iter()
                    .filter(|m| m.content.contains("just followed"))
                    .count()
                    >= follows
        })
        .await;
    let lines = delivered(&posted);
    let max_seen = lines
        .iter()
        .map(|(n, at)| at.duration_since(sent_at[*n]))
        .max()
        .unwrap_or_default();
    let follows_seen = posted
        .iter()
        .filter(|m| m.content.contains("just followed"))
        .count();
    let _ = writeln!(
        report,
        "- overload: {secs} s at 50 chat messages/s of ~200 characters, a follow every 10 s, \
         max_lag_secs = {max_lag}: {} delivered + {} skipped (announced) of {count}; follows \
         {follows_seen}/{follows}; largest lag of a delivered line {:.1} s (bound {} s); {} \
         Discord messages; {}",
        lines.len(),
        announced(&posted),
        max_seen.as_secs_f64(),
        max_lag + 10,
        posted.len(),
        counts_line(discord.counts())
    );
    relay.stop().await;
    Ok(())
}
