//! Writes the man pages and shell completions of `kick-relay` into a folder, from the CLI's own
//! definition. `cargo xtask dist` runs it; by hand:
//!
//! `cargo run -p relay-bin --example dist_assets -- target/dist`

#![allow(clippy::print_stdout)] // a command-line tool reports on stdout

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;
use relay_bin::cli::Cli;

fn main() -> std::io::Result<()> {
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/dist"), PathBuf::from);
    let man = out.join("man");
    let completions = out.join("completions");
    std::fs::create_dir_all(&man)?;
    std::fs::create_dir_all(&completions)?;
    // One page for the command and one per subcommand (kick-relay-serve.1, ...).
    clap_mangen::generate_to(Cli::command(), &man)?;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        clap_complete::generate_to(shell, &mut Cli::command(), "kick-relay", &completions)?;
    }
    println!(
        "man pages in {}, completions in {}",
        man.display(),
        completions.display()
    );
    Ok(())
}
