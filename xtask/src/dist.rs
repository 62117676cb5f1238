//! `cargo xtask dist`: the release binary, its man pages and shell completions in
//! `target/dist/`, ready to package.

use crate::{cargo, project_root, run};

/// Builds the stripped release binary and generates the man pages and completions from the
/// CLI's definition (relay-bin's `dist_assets` example, so the binary carries no generator).
pub(crate) fn run_dist() -> Result<(), String> {
    let root = project_root();
    let out = root.join("target/dist");
    run(
        "release binary",
        cargo().args([
            "build",
            "--release",
            "-p",
            "relay-bin",
            "--bin",
            "kick-relay",
        ]),
    )?;
    run(
        "man pages and completions",
        cargo()
            .args([
                "run",
                "--quiet",
                // The release profile the binary was just built in: the example reuses its
                // crates instead of building the whole tree again in the dev profile.
                "--release",
                "-p",
                "relay-bin",
                "--example",
                "dist_assets",
                "--",
            ])
            .arg(&out),
    )?;
    let binary = out.join("kick-relay");
    std::fs::copy(root.join("target/release/kick-relay"), &binary)
        .map_err(|err| format!("copy the binary to {}: {err}", binary.display()))?;
    println!(
        "\nxtask dist: {} with man/ (man -l man/kick-relay.1) and completions/ \
         (bash: completions/kick-relay.bash, zsh: _kick-relay, fish: kick-relay.fish)",
        out.display()
    );
    Ok(())
}
