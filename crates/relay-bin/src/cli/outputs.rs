//! `kick-relay outputs`: list, enable, disable.

use std::{path::Path, process::ExitCode};

use anyhow::bail;

use super::args::OutputsAction;
use crate::{clock, config::Config};

pub(super) async fn outputs(
    config_path: Option<&Path>,
    action: OutputsAction,
) -> anyhow::Result<ExitCode> {
    let (config, source) = Config::load(config_path)?;
    let store = super::open_store(&config, &source).await?;
    let known = |name: &str| -> anyhow::Result<()> {
        if config.outputs.iter().any(|o| o.name == name) {
            Ok(())
        } else {
            bail!("no output named {name:?} in the configuration")
        }
    };
    match action {
        OutputsAction::List => {
            let counts_by_status = store.stats(clock::now_ms()).await?;
            for output in &config.outputs {
                let name = &output.name;
                let state = match store.output_disabled(name).await? {
                    Some(reason) => format!("DISABLED ({reason})"),
                    None => "enabled".into(),
                };
                let counts: Vec<String> = counts_by_status
                    .by_status
                    .iter()
                    .filter(|(o, _, _)| o == name)
                    .map(|(_, s, n)| format!("{s}={n}"))
                    .collect();
                println!(
                    "{name:<20} {:<8} {state}  {}",
                    output.sink_kind().as_str(),
                    counts.join(" ")
                );
            }
        }
        OutputsAction::Enable { name } => {
            known(&name)?;
            store.enable_output(&name, clock::now_ms()).await?;
            println!(
                "{name} enabled; skipped deliveries stay skipped until `kick-relay replay --output {name} --status skipped`"
            );
        }
        OutputsAction::Disable { name } => {
            known(&name)?;
            store
                .disable_output(&name, "disabled by operator", clock::now_ms())
                .await?;
            println!(
                "{name} disabled: a running relay stops sending to it within seconds; its pending and new deliveries are kept as skipped (`kick-relay outputs enable {name}`, then `kick-relay replay --output {name} --status skipped`)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
