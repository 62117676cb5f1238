//! `kick-relay.example.toml` at the top of the repository: the real binary's `check-config`
//! accepts it, and it shows every key the configuration knows (active or as `# key = value`).

#![allow(missing_docs, clippy::unwrap_used)]

use std::{collections::BTreeSet, path::PathBuf, process::Command};

use relay_bin::config::{AdminConfig, Config, KickConfig, ServerConfig, StorageConfig};
use serde::de::DeserializeOwned;

const BIN: &str = env!("CARGO_BIN_EXE_kick-relay");

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kick-relay.example.toml")
}

fn example_text() -> String {
    std::fs::read_to_string(example_path()).unwrap()
}

/// The example with every optional `# key = value` line switched on.
fn example_with_optional_keys_on() -> String {
    example_text()
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if is_assignment(rest) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `key = value` with a lower-case key.
fn is_assignment(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    })
}

/// The fields a `deny_unknown_fields` struct knows, read from serde's "expected one of" list;
/// after `[[output]]` (say), the fields of that array's tables.
fn fields_of<T: DeserializeOwned + std::fmt::Debug>(table_line: &str) -> BTreeSet<String> {
    let err = toml::from_str::<T>(&format!("{table_line}\nno_such_key_here = 1\n")).unwrap_err();
    let message = err.to_string();
    let list = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .unwrap_or_else(|| panic!("no field list in {message}"))
        .1;
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn keys_of(value: &toml::Value) -> BTreeSet<String> {
    value
        .as_table()
        .unwrap()
        .keys()
        .filter(|k| k.as_str() != "no_such_key_here")
        .cloned()
        .collect()
}

#[test]
fn the_example_shows_every_key_of_every_section() {
    let text = example_with_optional_keys_on();
    // With the optional keys on it is still a valid configuration (types, unknown keys).
    let _: Config = toml::from_str(&text).unwrap();
    let example: toml::Value = toml::from_str(&text).unwrap();

    assert_eq!(
        keys_of(&example),
        fields_of::<Config>(""),
        "top-level tables"
    );
    for (section, fields) in [
        ("server", fields_of::<ServerConfig>("")),
        ("admin", fields_of::<AdminConfig>("")),
        ("kick", fields_of::<KickConfig>("")),
        ("storage", fields_of::<StorageConfig>("")),
    ] {
        assert_eq!(keys_of(&example[section]), fields, "[{section}]");
    }
    for (section, wrapper) in [
        ("output", "[[output]]"),
        ("subscription", "[[subscription]]"),
    ] {
        let shown: BTreeSet<String> = example[section]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(keys_of)
            .collect();
        assert_eq!(shown, fields_of::<Config>(wrapper), "[[{section}]]");
    }
}

#[test]
fn check_config_accepts_the_example() {
    let output = Command::new(BIN)
        .args(["--config"])
        .arg(example_path())
        .arg("check-config")
        .env(
            "DISCORD_WEBHOOK_URL",
            "https://discord.com/api/webhooks/1/x",
        )
        .env_remove("KICK_RELAY_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok (3 outputs, 1 subscriptions)"),
        "{stdout}"
    );
}

#[test]
fn check_config_names_the_missing_variable_of_the_example() {
    let output = Command::new(BIN)
        .args(["--config"])
        .arg(example_path())
        .arg("check-config")
        .env_remove("DISCORD_WEBHOOK_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DISCORD_WEBHOOK_URL"), "{stderr}");
}
