//! The CI steps.

use crate::{cargo, project_root, run, setup, tidy};

/// Everything CI runs, fastest failures first.
pub(crate) fn all() -> Result<(), String> {
    tidy::run(&project_root())?;
    lint()?;
    test()?;
    deny()?;
    println!("\nxtask ci: all steps passed");
    Ok(())
}

/// Formatting and clippy with warnings denied, on every target and both feature sets; the
/// docs as docs.rs builds them; hadolint on the Dockerfile.
pub(crate) fn lint() -> Result<(), String> {
    run("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(
        "clippy (all features)",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The docs as docs.rs builds them: no broken links, every public item documented.
    run(
        "docs (warnings denied)",
        cargo().env("RUSTDOCFLAGS", "-D warnings").args([
            "doc",
            "--no-deps",
            "--workspace",
            "--all-features",
        ]),
    )?;
    // The container image's recipe, linted as hadolint's rules say (installed when missing).
    let root = project_root();
    let hadolint = setup::hadolint(&root)?;
    run(
        "hadolint Dockerfile",
        std::process::Command::new(hadolint)
            .arg("Dockerfile")
            .current_dir(&root),
    )?;
    // kick-verify's default build (pure-Rust backend only) has its own cfg paths.
    run(
        "clippy (kick-verify, default features)",
        cargo().args([
            "clippy",
            "-p",
            "kick-verify",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )
}

/// The whole test suite: nextest (it skips doctests) then doctests, with all features, plus
/// kick-verify alone on its default (pure-Rust) backend; first what the tests need from the
/// machine, installed when missing ([`setup::machine`]).
pub(crate) fn test() -> Result<(), String> {
    setup::machine()?;
    run(
        "tests (all features)",
        cargo().args([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]),
    )?;
    run(
        "tests (kick-verify, default features)",
        cargo().args(["nextest", "run", "-p", "kick-verify"]),
    )?;
    run(
        "doctests",
        cargo().args(["test", "--workspace", "--all-features", "--doc"]),
    )
}

/// `cargo deny check bans licenses sources`, installing cargo-deny first when it is missing.
///
/// Advisories are not checked: the advisory database lives on GitHub, which this project's
/// machines cannot reach.
pub(crate) fn deny() -> Result<(), String> {
    let installed = cargo()
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        run(
            "install cargo-deny",
            cargo().args(["install", "--locked", "cargo-deny@0.20.2"]),
        )?;
    }
    println!(
        "\nnote: cargo deny advisories is skipped: the advisory database (GitHub) cannot be \
         reached from here. RUSTSEC-2023-0071 is ignored in deny.toml with its reason."
    );
    run(
        "cargo deny",
        cargo().args([
            "deny",
            "--all-features",
            "check",
            "bans",
            "licenses",
            "sources",
        ]),
    )
}
