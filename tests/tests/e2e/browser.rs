//! A real headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them when missing).

use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

/// A browser session and the chromedriver behind it; both end with it.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    profile: PathBuf,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session through it.
    pub(crate) async fn start() -> Self {
        let driver_path = find(&["chromedriver"]).expect(
            "chromedriver is not installed: apt-get install chromium chromium-driver (.ci/run does)",
        );
        let chromium = find(&["chromium", "chromium-browser"]).expect(
            "chromium is not installed: apt-get install chromium chromium-driver (.ci/run does)",
        );
        let port = relay_tests::free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("kick-relay-chromium-{}-{port}", std::process::id()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                         format!("--user-data-dir={}", profile.display())],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self {
            client,
            driver,
            profile,
        }
    }

    /// Ends the session, chromedriver and the profile folder.
    pub(crate) async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        remove_profile(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        remove_profile(&self.profile);
    }
}

/// Removes a Chromium profile folder. A browser that is still shutting down (or orphaned by a
/// killed chromedriver after a failed test) may write into it after a first removal, leaving
/// a folder behind in /tmp: try again for a while.
fn remove_profile(profile: &std::path::Path) {
    for _ in 0..50 {
        let _ = std::fs::remove_dir_all(profile);
        if !profile.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
