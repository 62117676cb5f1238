//! `cargo xtask bench`: builds release binaries and runs relay-bench (and, for full runs, the
//! criterion benches of kick-verify and kick-dispatch): the report is added to
//! docs/benchmarks/RUNS.md and shown as the newest run on docs/BENCHMARKS.md.

use std::{fmt::Write as _, process::Command};

use crate::{cargo, project_root};

/// Runs the benchmarks.
pub(crate) fn run(quick: bool) -> Result<(), String> {
    let root = project_root();
    crate::run(
        "build release binaries",
        cargo().args(["build", "--release", "-p", "relay-bin", "-p", "relay-bench"]),
    )?;
    let work = root.join("target").join("bench");
    std::fs::create_dir_all(&work).map_err(|err| format!("create {}: {err}", work.display()))?;
    // Extra sections of the report: the Discord lag scenarios, PostgreSQL next to SQLite,
    // instructions per event (callgrind), then (full runs) criterion.
    let secs = if quick { "15" } else { "60" };
    let mut extra_text = section(
        "Discord lag (relay-bench discord)",
        &work.join("discord.md"),
        &["discord", "--secs", secs],
    )?;
    let relay_bin = root.join("target/release/kick-relay");
    let work_arg = work.display().to_string();
    let relay_arg = relay_bin.display().to_string();
    let secs = if quick { "5" } else { "8" };
    extra_text.push('\n');
    extra_text.push_str(&section(
        "PostgreSQL next to SQLite (relay-bench postgres)",
        &work.join("postgres.md"),
        &[
            "postgres",
            "--relay-bin",
            &relay_arg,
            "--work",
            &work_arg,
            "--secs",
            secs,
        ],
    )?);
    extra_text.push('\n');
    extra_text.push_str(&section(
        "instructions per event (relay-bench instructions, callgrind)",
        &work.join("instructions.md"),
        &[
            "instructions",
            "--relay-bin",
            &relay_arg,
            "--work",
            &work_arg,
        ],
    )?);
    if !quick {
        extra_text.push('\n');
        extra_text.push_str(&criterion()?);
    }
    let extra = work.join("extra.md");
    std::fs::write(&extra, extra_text)
        .map_err(|err| format!("write {}: {err}", extra.display()))?;
    let mut command = Command::new(root.join("target/release/relay-bench"));
    command
        .arg("all")
        .arg("--relay-bin")
        .arg(root.join("target/release/kick-relay"))
        .arg("--work")
        .arg(&work)
        .arg("--report")
        .arg(root.join("docs/benchmarks/RUNS.md"))
        .arg("--summary")
        .arg(root.join("docs/BENCHMARKS.md"))
        .arg("--kickpy")
        .arg(root.join("bench/peers/kickpy"));
    if quick {
        command.arg("--quick");
    }
    command.arg("--extra").arg(&extra);
    crate::run("relay-bench", &mut command)
}

/// Runs the criterion benches of kick-verify and kick-dispatch; their times as a report section.
fn criterion() -> Result<String, String> {
    let mut text = String::from("Criterion (same machine, same session):\n\n```\n");
    for (package, features, bench) in [
        ("kick-verify", Some("aws-lc-rs"), "verify"),
        ("kick-dispatch", None, "dispatch"),
    ] {
        let mut command = cargo();
        command.args(["bench", "-p", package, "--bench", bench]);
        if let Some(features) = features {
            command.args(["--features", features]);
        }
        command.args(["--", "--warm-up-time", "2", "--measurement-time", "5"]);
        println!("\n==> criterion {package}: {command:?}");
        let output = command
            .output()
            .map_err(|err| format!("criterion {package}: {err}"))?;
        if !output.status.success() {
            return Err(format!("criterion {package} failed"));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut name = String::new();
        for line in stdout.lines() {
            let trimmed = line.trim();
            if !line.starts_with(' ')
                && !trimmed.is_empty()
                && !trimmed.starts_with("Benchmarking")
                && !trimmed.starts_with("Found")
            {
                trimmed
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .clone_into(&mut name);
            }
            if (trimmed.starts_with("time:") || trimmed.starts_with("thrpt:"))
                && !trimmed.contains('%')
            {
                let value = trimmed.rsplit_once("time:").map_or(trimmed, |(_, v)| v);
                let _ = writeln!(text, "{name:<40} {}", value.trim());
            }
        }
    }
    text.push_str("```\n");
    Ok(text)
}

/// Runs `relay-bench ARGS --out OUT` and returns what it wrote.
fn section(step: &str, out: &std::path::Path, args: &[&str]) -> Result<String, String> {
    crate::run(
        step,
        Command::new(project_root().join("target/release/relay-bench"))
            .args(args)
            .arg("--out")
            .arg(out),
    )?;
    std::fs::read_to_string(out).map_err(|err| format!("read {}: {err}", out.display()))
}

/// `cargo xtask chaos [--postgres]`: release build, then `relay-bench chaos`.
pub(crate) fn chaos(postgres: bool) -> Result<(), String> {
    let root = project_root();
    crate::run(
        "build release binaries",
        cargo().args(["build", "--release", "-p", "relay-bin", "-p", "relay-bench"]),
    )?;
    let mut command = Command::new(root.join("target/release/relay-bench"));
    command
        .arg("chaos")
        .arg("--relay-bin")
        .arg(root.join("target/release/kick-relay"))
        .arg("--work")
        .arg(root.join("target").join("chaos"))
        .arg("--report")
        .arg(root.join("docs/RELIABILITY.md"));
    if postgres {
        command.arg("--postgres");
    }
    crate::run("relay-bench chaos", &mut command)
}
