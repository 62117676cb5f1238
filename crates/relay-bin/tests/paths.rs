//! Where the binary looks for its files when it is run from another folder than the config's:
//! relative paths in the config file follow the file, operator commands open only the
//! database a relay created, and `verify --config` checks with the config's key.

#![allow(clippy::unwrap_used, missing_docs)]

use std::{
    fmt::Write as _,
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap};

mod common;

use common::{BIN, dir_with_keys, free_port, listen, terminate, wait_healthy, write_relay_toml};

/// Runs the binary in `cwd` with `args`; (success, stdout, stderr).
fn run_in(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("KICK_RELAY_CONFIG")
        .env_remove("KICK_RELAY_DATABASE_URL")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One request as a stand-in saw it: its headers (`Name: value` lines) and body.
type Captured = Arc<Mutex<Option<(String, Vec<u8>)>>>;

async fn capture(State(seen): State<Captured>, headers: HeaderMap, body: Bytes) -> &'static str {
    let lines = headers
        .iter()
        .fold(String::new(), |mut lines, (name, value)| {
            let _ = writeln!(lines, "{name}: {}", value.to_str().unwrap_or_default());
            lines
        });
    *seen.lock().unwrap() = Some((lines, body.to_vec()));
    "ok"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_run_from_another_folder_use_the_relays_own_files() {
    let dir = dir_with_keys("paths");
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let config = dir.join("relay.toml");
    let config_arg = config.to_str().unwrap();
    let (public, admin, sink) = (free_port(), free_port(), free_port());
    // relay.toml names keys/public.pem and relay.db relatively.
    write_relay_toml(
        &dir,
        public,
        admin,
        &format!(
            "[[output]]\nname = \"tools\"\ntype = \"raw\"\nurl = \"http://127.0.0.1:{sink}/\"\n"
        ),
    );

    // Served from elsewhere: the key and the database are the config folder's.
    let mut relay = Command::new(BIN)
        .args(["--config", config_arg, "serve"])
        .current_dir(&elsewhere)
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("serve.log")).unwrap(),
        ))
        .spawn()
        .unwrap();
    wait_healthy(admin).await;
    assert!(
        dir.join("relay.db").is_file(),
        "the database beside relay.toml"
    );
    let key = dir.join("keys/private.pem");
    let url = format!("http://127.0.0.1:{public}/webhooks/kick");
    let (ok, out, err) = run_in(
        &elsewhere,
        &["send-test", "--url", &url, "--key", key.to_str().unwrap()],
    );
    assert!(
        ok && out.contains("200 accepted"),
        "signed with the config's key: {out}{err}"
    );

    operator_commands_from_elsewhere(&dir, &elsewhere, config_arg);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let status = reqwest::get(format!("http://127.0.0.1:{admin}/api/status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if status.contains("disabled by operator") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the running relay never saw the output disabled: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    no_database_without_the_config(&elsewhere);
    terminate(&mut relay);

    // verify: a delivery send-test signed with the dev key is valid against --config's key,
    // and not against Kick's published key.
    let seen: Captured = Arc::default();
    listen(
        sink,
        Router::new().fallback(capture).with_state(seen.clone()),
    )
    .await;
    let (ok, _, err) = run_in(
        &elsewhere,
        &[
            "send-test",
            "--url",
            &format!("http://127.0.0.1:{sink}/"),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let (headers, body) = seen.lock().unwrap().clone().unwrap();
    std::fs::write(elsewhere.join("headers.txt"), headers).unwrap();
    std::fs::write(elsewhere.join("body.json"), body).unwrap();
    let check = ["verify", "--headers", "headers.txt", "--body", "body.json"];
    let (ok, out, _) = run_in(
        &elsewhere,
        &[&["--config", config_arg][..], &check].concat(),
    );
    assert!(ok && out.starts_with("valid:"), "{out}");
    assert!(out.contains("keys/public.pem"), "names the key: {out}");
    let (ok, out, _) = run_in(&elsewhere, &check);
    assert!(
        !ok && out.contains("INVALID") && out.contains("Kick's published key"),
        "{out}"
    );
}

/// From `elsewhere`, with the relay's `--config`: disable its output, list and show its
/// deliveries; every command names the database it used and refuses a typo.
fn operator_commands_from_elsewhere(dir: &Path, elsewhere: &Path, config_arg: &str) {
    // An operator command from elsewhere acts on the serving relay's database and names it.
    let (ok, out, err) = run_in(
        elsewhere,
        &["--config", config_arg, "outputs", "disable", "tools"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("tools disabled"), "{out}");
    let database = dir.join("relay.db");
    assert!(
        err.contains(&format!("database {}", database.display())),
        "the command names the file it used: {err}"
    );
    let (_, listed, _) = run_in(elsewhere, &["--config", config_arg, "outputs", "list"]);
    assert!(listed.contains("DISABLED"), "{listed}");
    let (ok, _, err) = run_in(
        elsewhere,
        &[
            "--config",
            config_arg,
            "deliveries",
            "list",
            "--output",
            "tool",
        ],
    );
    assert!(
        !ok && err.contains("no output named \"tool\""),
        "a typo is named: {err}"
    );

    // deliveries list has a time column; deliveries show tells one delivery's story.
    let (ok, listed, err) = run_in(
        elsewhere,
        &[
            "--config",
            config_arg,
            "deliveries",
            "list",
            "--output",
            "tools",
        ],
    );
    assert!(ok, "{err}");
    let row: Vec<&str> = listed.lines().next().unwrap().split_whitespace().collect();
    let (id, queued) = (row[0], row[1]);
    assert!(
        queued.len() == 20 && queued.contains('T') && queued.ends_with('Z'),
        "{listed}"
    );
    let (ok, shown, err) = run_in(
        elsewhere,
        &["--config", config_arg, "deliveries", "show", id],
    );
    assert!(ok, "{err}");
    for part in [
        &format!("delivery {id}  chat.message.sent to tools")[..],
        "message id  ",
        &format!("queued  {queued}"),
        "\"content\"",
    ] {
        assert!(shown.contains(part), "{part:?} missing from:\n{shown}");
    }
    let (ok, _, err) = run_in(
        elsewhere,
        &["--config", config_arg, "deliveries", "show", "999"],
    );
    assert!(!ok && err.contains("no delivery 999"), "{err}");
}

/// Without `--config` there is no database in `elsewhere`: refused, and none is created.
fn no_database_without_the_config(elsewhere: &Path) {
    for args in [&["outputs", "list"][..], &["deliveries", "list"]] {
        let (ok, out, err) = run_in(elsewhere, args);
        assert!(!ok, "{args:?}: {out}");
        assert!(
            err.contains("no relay database at") && err.contains("kick-relay.db"),
            "{args:?}: {err}"
        );
    }
    let (ok, _, err) = run_in(elsewhere, &["outputs", "list"]);
    assert!(
        !ok && err.contains("run the command where the relay runs"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(elsewhere).unwrap().next().is_none(),
        "nothing created in the working directory"
    );
}

/// A relative database path written in the config once named a file in the working
/// directory: a relay never starts a new, empty database beside the config while that one
/// exists.
#[test]
fn a_database_left_in_the_working_directory_is_named_not_replaced() {
    let dir = dir_with_keys("paths-moved");
    let etc = dir.join("etc");
    std::fs::create_dir(&etc).unwrap();
    write_relay_toml(&etc, free_port(), free_port(), "");
    let config = etc.join("relay.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("keys/public.pem", "../keys/public.pem");
    std::fs::write(&config, text).unwrap();
    std::fs::write(dir.join("relay.db"), b"").unwrap();
    let (ok, _, err) = run_in(&dir, &["--config", "etc/relay.toml", "serve"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("which does not exist, but")
            && err.contains(&format!("{}", dir.join("relay.db").display())),
        "{err}"
    );
    assert!(
        !etc.join("relay.db").exists(),
        "no new database beside the config"
    );
}

/// check-config exits 2 with the file and line for a key file that is not there, and with
/// the file for a config that is missing or not UTF-8.
#[test]
fn check_config_says_where_and_exits_2() {
    let dir = dir_with_keys("paths-check");
    let check = |config: &str| {
        let output = Command::new(BIN)
            .args(["--config", config, "check-config"])
            .current_dir(&*dir)
            .env_remove("KICK_RELAY_DATABASE_URL")
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    std::fs::write(
        dir.join("relay.toml"),
        "[server]\nlisten = \"127.0.0.1:3000\"\n[kick]\npublic_key_file = \"keys/missing.pem\"\n",
    )
    .unwrap();
    let (code, err) = check("relay.toml");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("relay.toml, line 4: kick.public_key_file")
            && err.contains("keys/missing.pem does not exist"),
        "{err}"
    );
    let (code, err) = check("nowhere.toml");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot read config file nowhere.toml"),
        "{err}"
    );
    std::fs::write(dir.join("latin1.toml"), b"[server]\n# caf\xe9\n").unwrap();
    let (code, err) = check("latin1.toml");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("latin1.toml, line 2: the file is not UTF-8"),
        "{err}"
    );
}

/// A database path that cannot be a database says why, once.
#[test]
fn a_database_path_that_cannot_be_used_says_why() {
    let dir = dir_with_keys("paths-db");
    std::fs::create_dir(dir.join("a-folder")).unwrap();
    for (database, why) in [
        ("a-folder", "a-folder is a directory; name a file in it"),
        ("missing/relay.db", "missing does not exist; create it"),
    ] {
        std::fs::write(
            dir.join("relay.toml"),
            format!("[storage]\ndatabase_url = \"sqlite://{database}\"\n"),
        )
        .unwrap();
        let (ok, _, err) = run_in(&dir, &["--config", "relay.toml", "serve"]);
        assert!(!ok, "{err}");
        assert!(err.contains(why), "{database}: {err}");
        assert_eq!(
            err.matches("unable to open database file").count(),
            usize::from(err.contains("unable to open")),
            "SQLite's message at most once: {err}"
        );
    }
}
