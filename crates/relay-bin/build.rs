//! Puts the git commit the binary was built from into `kick-relay --version`.
//!
//! `KICK_RELAY_GIT_COMMIT` in the build's environment wins (for builds from a tarball or in a
//! packaging system); otherwise `git rev-parse` in the source tree; otherwise "unknown commit".

use std::{path::PathBuf, process::Command};

fn main() {
    println!("cargo::rerun-if-env-changed=KICK_RELAY_GIT_COMMIT");
    let commit = std::env::var("KICK_RELAY_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo::rustc-env=KICK_RELAY_GIT_COMMIT={}", commit.trim());
}

/// The short commit of HEAD, after asking cargo to rerun when HEAD moves.
fn git_commit() -> Option<String> {
    let git_dir = git(&["rev-parse", "--absolute-git-dir"])?;
    let git_dir = PathBuf::from(git_dir);
    // HEAD names the branch; the branch's ref (loose or packed) names the commit.
    println!("cargo::rerun-if-changed={}", git_dir.join("HEAD").display());
    println!(
        "cargo::rerun-if-changed={}",
        git_dir.join("packed-refs").display()
    );
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo::rerun-if-changed={}", git_dir.join(branch).display());
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}
