//! What the tests of the real binary share: ports, a scratch directory with a key pair made by
//! `kick-relay keygen`, and waiting for `/healthz`.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_kick-relay");

pub(crate) use kick_testkit::free_port;

/// A directory removed when the test ends (also when it fails).
pub(crate) struct ScratchDir(PathBuf);

impl std::ops::Deref for ScratchDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for ScratchDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty directory named for the test.
pub(crate) fn scratch_dir(name: &str) -> ScratchDir {
    let dir = std::env::temp_dir().join(format!("kick-relay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    ScratchDir(dir)
}

/// A fresh directory named for the test, holding `keys/` made by `kick-relay keygen`.
pub(crate) fn dir_with_keys(name: &str) -> ScratchDir {
    let dir = scratch_dir(name);
    assert!(
        Command::new(BIN)
            .args(["keygen", "--out", "keys"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    dir
}

/// Writes `dir/relay.toml`: loopback listeners on `public` and `admin`, the key pair of
/// [`dir_with_keys`], a database in `dir`, and `outputs` (TOML) appended.
pub(crate) fn write_relay_toml(dir: &std::path::Path, public: u16, admin: u16, outputs: &str) {
    std::fs::write(
        dir.join("relay.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:{public}\"\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
             [kick]\npublic_key_file = \"keys/public.pem\"\n[storage]\ndatabase_url = \"sqlite://relay.db\"\n{outputs}"
        ),
    )
    .unwrap();
}

/// Waits (up to 20 s) until the admin listener on `admin` answers `/healthz`.
pub(crate) async fn wait_healthy(admin: u16) {
    kick_testkit::eventually_async("the relay to come up", Duration::from_secs(20), || async {
        reqwest::get(format!("http://127.0.0.1:{admin}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
}

/// `kick-relay --config relay.toml serve` in `dir`, logging at debug level to `dir/serve.log`.
pub(crate) fn serve(dir: &std::path::Path) -> std::process::Child {
    Command::new(BIN)
        .args(["--config", "relay.toml", "serve"])
        .current_dir(dir)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("serve.log")).unwrap(),
        ))
        .spawn()
        .unwrap()
}

/// Sends SIGTERM to a serving relay and asserts that it exits cleanly (status 0).
pub(crate) fn terminate(relay: &mut std::process::Child) {
    assert!(
        Command::new("kill")
            .args(["-TERM", &relay.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = relay.wait().unwrap();
    assert!(status.success(), "SIGTERM ends the relay cleanly: {status}");
}

/// Serves `app` on 127.0.0.1:`port` (a stand-in for an output) until the test ends.
pub(crate) async fn listen(port: u16, app: axum::Router) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}
