//! The container image's pieces agree with the binary: the configuration it ships passes
//! `check-config`, the Dockerfile exposes the port that configuration listens on, copies it
//! where `KICK_RELAY_CONFIG` points, and its HEALTHCHECK is `kick-relay healthcheck` (which asks
//! the admin listener the configuration names, on loopback).

#![allow(missing_docs, clippy::unwrap_used)]

use std::{path::PathBuf, process::Command};

const BIN: &str = env!("CARGO_BIN_EXE_kick-relay");

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[test]
fn the_containers_configuration_passes_check_config_and_matches_the_dockerfile() {
    let config_path = repo("deploy/container/kick-relay.toml");
    let output = Command::new(BIN)
        .arg("--config")
        .arg(&config_path)
        .arg("check-config")
        .env_remove("KICK_RELAY_CONFIG")
        .env_remove("KICK_RELAY_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ok (0 outputs"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    let listen = |table: &str| -> std::net::SocketAddr {
        config[table]["listen"].as_str().unwrap().parse().unwrap()
    };
    assert!(
        listen("admin").ip().is_loopback(),
        "the admin listener stays inside the container unless a token is set"
    );
    let dockerfile = std::fs::read_to_string(repo("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("EXPOSE {}", listen("server").port())),
        "the Dockerfile exposes the webhook port"
    );
    assert!(
        dockerfile
            .contains("COPY deploy/container/kick-relay.toml /etc/kick-relay/kick-relay.toml")
    );
    assert!(dockerfile.contains("KICK_RELAY_CONFIG=/etc/kick-relay/kick-relay.toml"));
    assert!(dockerfile.contains(r#"CMD ["kick-relay", "healthcheck"]"#));
    assert!(
        config["storage"]["database_url"]
            .as_str()
            .unwrap()
            .starts_with("sqlite:///var/lib/kick-relay/")
            && dockerfile.contains(r#"VOLUME ["/var/lib/kick-relay"]"#),
        "the database lives in the image's volume"
    );
}
