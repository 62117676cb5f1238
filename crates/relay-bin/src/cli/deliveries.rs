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
        && !config.outputs.iter().any(|o| *o.name.get_ref() == *output)
    {
        bail!("no output named {output:?} in the configuration");
    }
    let store = open_store(&config, &source).await?;
    let status = status.map(str::parse::<Status>).transpose()?;
    for row in store.list(output, status, limit).await? {
        println!(
            "{:>8}  {:<10} {:<20} {:<34} attempts={} {}{}",
            row.id,
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

/// `replay`: queue an output's finished deliveries again.
pub(super) async fn replay(
    config_path: Option<&Path>,
    output: &str,
    status: &str,
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let (config, source) = Config::load(config_path)?;
    if !config.outputs.iter().any(|o| *o.name.get_ref() == *output) {
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
