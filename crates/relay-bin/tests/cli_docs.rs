//! The man page and the shell completions generated from the CLI know every command.

#![allow(missing_docs, clippy::unwrap_used)]

use clap::{CommandFactory, Parser};
use clap_complete::Shell;
use relay_bin::cli::Cli;

/// Every subcommand name, nested ones too (`subscriptions sync` → "sync").
fn command_names(command: &clap::Command) -> Vec<String> {
    command
        .get_subcommands()
        .flat_map(|sub| {
            let mut names = vec![sub.get_name().to_owned()];
            names.extend(command_names(sub));
            names
        })
        .collect()
}

#[test]
fn the_man_page_lists_every_command_and_the_version() {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .unwrap();
    // roff writes a hyphen as `\-`.
    let page = String::from_utf8(page).unwrap().replace("\\-", "-");
    assert!(
        page.starts_with(".ie") || page.contains(".TH kick-relay"),
        "{page}"
    );
    assert!(page.contains(relay_bin::cli::VERSION), "{page}");
    let names = command_names(&Cli::command());
    assert!(names.len() >= 10, "{names:?}");
    for name in Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
    {
        assert!(page.contains(&name), "{name} missing from the man page");
    }
}

#[test]
fn every_shell_completes_every_command() {
    let names = command_names(&Cli::command());
    for (shell, config_option) in [
        (Shell::Bash, "--config"),
        (Shell::Zsh, "--config"),
        (Shell::Fish, "-l config"),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "kick-relay", &mut script);
        let script = String::from_utf8(script).unwrap();
        for name in &names {
            assert!(script.contains(name.as_str()), "{shell}: {name} missing");
        }
        assert!(script.contains(config_option), "{shell}: --config missing");
    }
}

#[test]
fn version_names_the_commit() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kick-relay"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = format!("kick-relay {} (", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected), "{text}");
    let commit = text
        .trim_end()
        .trim_end_matches(')')
        .rsplit('(')
        .next()
        .unwrap();
    // In a git checkout, the commit checked out; elsewhere (a tarball) the build says so.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned());
    match (head, std::env::var("KICK_RELAY_GIT_COMMIT")) {
        (_, Ok(set)) if !set.trim().is_empty() => assert_eq!(commit, set.trim(), "{text}"),
        (Some(head), _) => assert_eq!(commit, head, "{text}"),
        (None, _) => assert_eq!(commit, "unknown commit", "{text}"),
    }
}

/// `--status` and `send-test --event` list their values in `--help` and in completions, and
/// refuse anything else before touching a database.
#[test]
fn status_and_event_values_are_listed_and_completed() {
    let mut replay = Cli::command();
    let help = replay
        .find_subcommand_mut("replay")
        .unwrap()
        .render_long_help()
        .to_string();
    for status in ["pending", "delivered", "dead", "skipped", "expired"] {
        assert!(help.contains(status), "{status} missing from:\n{help}");
    }
    let mut script = Vec::new();
    clap_complete::generate(Shell::Bash, &mut Cli::command(), "kick-relay", &mut script);
    let script = String::from_utf8(script).unwrap();
    for value in ["kicks.gifted", "livestream.metadata.updated", "expired"] {
        assert!(script.contains(value), "bash completion misses {value}");
    }
    for args in [
        &["deliveries", "list", "--status", "gone"][..],
        &["deliveries", "list", "--limit", "0"],
        &["deliveries", "list", "--limit", "1001"],
        &[
            "send-test",
            "--url",
            "http://127.0.0.1:9/",
            "--key",
            "k.pem",
            "--event",
            "chat",
        ],
    ] {
        let err = Cli::try_parse_from([&["kick-relay"][..], args].concat()).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
    }
}
