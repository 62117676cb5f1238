//! `kick-relay deliveries list` and `kick-relay replay`.

use std::{path::Path, process::ExitCode};

use anyhow::{Context, bail};

use super::open_store;
use crate::{clock, config::Config, store::Status};

/// `deliveries list`: newest first.
pub(super) async fn list(
    config_path: Option<&Path>,
    output: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> anyhow::Result<ExitCode> {
    let (config, source) = Config::load(config_path)?;
    if let Some(output) = output
        && !config.outputs.iter().any(|o| o.name == *output)
    {
        bail!("no output named {output:?} in the configuration");
    }
    let store = open_store(&config, &source).await?;
    let status = status.map(str::parse::<Status>).transpose()?;
    for row in store.list(output, status, limit).await? {
        println!(
            "{:>8}  {}  {:<10} {:<20} {:<34} attempts={} {}{}",
            row.id,
            time(row.created_at),
            row.status,
            row.output,
            format!("{} {}", row.event_type, row.message_id),
            row.attempts,
            row.last_status
                .map(|s| format!("last={s} "))
                .unwrap_or_default(),
            row.last_error.unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `deliveries show ID`: one delivery, its history and the event it carries.
pub(super) async fn show(config_path: Option<&Path>, id: i64) -> anyhow::Result<ExitCode> {
    let (config, source) = Config::load(config_path)?;
    let store = open_store(&config, &source).await?;
    let Some(detail) = store.detail(id).await? else {
        bail!("no delivery {id} (`kick-relay deliveries list` shows the ids)");
    };
    let row = &detail.delivery;
    println!("delivery {}  {} to {}", row.id, row.event_type, row.output);
    println!("message id  {}", row.message_id);
    if let Some(timestamp) = &detail.event_timestamp {
        println!("sent by Kick  {timestamp}");
    }
    println!("queued  {}", time(row.created_at));
    let finished = detail
        .finished_at
        .map(|at| format!(", finished {}", time(at)))
        .unwrap_or_default();
    println!(
        "status  {} after {} attempts{finished}",
        row.status, row.attempts
    );
    if detail.attempts.is_empty() {
        println!("history  (none recorded: delivered at the first attempt, or not tried yet)");
    } else {
        println!("history");
        for attempt in &detail.attempts {
            println!(
                "  {}  {:<10} {}{}",
                time(attempt.at),
                attempt.status,
                attempt
                    .http_status
                    .map(|s| format!("HTTP {s} "))
                    .unwrap_or_default(),
                attempt.error.as_deref().unwrap_or_default()
            );
        }
    }
    match &detail.event_body {
        Some(body) => println!("event\n{body}"),
        None => println!("event  (no longer in the inbox: purged after retention_days)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A stored time (Unix ms) as RFC 3339, to the second.
fn time(ms: i64) -> String {
    let text = clock::rfc3339(clock::from_ms(ms));
    match text.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => text,
    }
}

/// `replay`: queue an output's finished deliveries again.
pub(super) async fn replay(
    config_path: Option<&Path>,
    output: &str,
    status: &str,
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let (config, source) = Config::load(config_path)?;
    if !config.outputs.iter().any(|o| o.name == *output) {
        bail!("no output named {output:?} in the configuration");
    }
    let store = super::open_store(&config, &source).await?;
    let status: Status = status.parse()?;
    let parse = |t: Option<&str>| -> anyhow::Result<Option<i64>> {
        t.map(|t| {
            kick_models::Timestamp::parse(t)
                .map(|ts| i64::try_from(ts.unix_nanos() / 1_000_000).unwrap_or(0))
                .with_context(|| format!("{t:?} is not an RFC 3339 time"))
        })
        .transpose()
    };
    let n = store
        .replay(
            output,
            status,
            parse(since)?,
            parse(until)?,
            clock::now_ms(),
        )
        .await?;
    println!(
        "queued {n} {} deliveries of {output} again",
        status.as_str()
    );
    Ok(ExitCode::SUCCESS)
}
