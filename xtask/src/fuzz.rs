//! `cargo xtask fuzz [SECONDS]`: runs every cargo-fuzz target for SECONDS (default 60) and
//! records executions per target in docs/RELIABILITY.md. Only the stable toolchain exists here,
//! so the sanitizer flags cargo-fuzz needs are unlocked with `RUSTC_BOOTSTRAP=1`.

use std::{fmt::Write as _, process::Command};

use crate::{cargo, project_root};

const TARGETS: [&str; 5] = ["headers", "verify", "payloads", "render", "config"];

/// Runs the fuzzers.
pub(crate) fn run(seconds: u64) -> Result<(), String> {
    let root = project_root();
    let installed = cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        crate::run(
            "install cargo-fuzz",
            cargo().args(["install", "--locked", "cargo-fuzz"]),
        )?;
    }
    let mut rows = String::new();
    let mut crashed = Vec::new();
    for target in TARGETS {
        println!("\n==> fuzz {target} for {seconds} s");
        let output = cargo()
            .current_dir(root.join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args([
                "fuzz",
                "run",
                target,
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
            ])
            .output()
            .map_err(|err| format!("cargo fuzz {target}: {err}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let executions = log
            .lines()
            .find(|l| l.starts_with("stat::number_of_executed_units:"))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or("?")
            .to_owned();
        let outcome = if output.status.success() {
            "no crash".to_owned()
        } else {
            crashed.push(target);
            let artifact = log
                .lines()
                .find(|l| l.contains("Test unit written to"))
                .unwrap_or("see the log");
            format!("CRASH: {artifact}")
        };
        println!("{target}: {executions} executions, {outcome}");
        let _ = writeln!(rows, "| {target} | {seconds} | {executions} | {outcome} |");
    }
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%dT%H:%MZ")
        .output()
        .map_or_else(
            |_| "?".into(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        );
    let run = format!(
        "### Fuzz run of {date}\n\nCommand: `cargo xtask fuzz {seconds}` (libFuzzer through cargo-fuzz, one core).\n\n| target | seconds | executions | outcome |\n|---|---|---|---|\n{rows}"
    );
    let path = root.join("docs/RELIABILITY.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let marker = "<!-- fuzz runs: newest first -->";
    let updated = match existing.split_once(marker) {
        Some((head, tail)) => format!("{head}{marker}\n\n{run}\n{}", tail.trim_start()),
        None => format!(
            "{existing}\n## Fuzzing\n\nTargets in `fuzz/fuzz_targets/`: header parsing, signature verification (both backends), payload parsing for every event type, Discord/Raw/Forward rendering (with Discord's limits and mention safety asserted), config parsing.\n\n{marker}\n\n{run}"
        ),
    };
    std::fs::write(&path, updated).map_err(|err| format!("write {}: {err}", path.display()))?;
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz targets crashed: {crashed:?}"))
    }
}
