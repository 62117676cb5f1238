//! The admin page in a real browser: it shows a failing output's error; without the token it
//! offers no action and the API refuses one; logged in, "Replay" on a dead letter gets it
//! delivered and "Disable" stops an output.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use relay_tests::{Reply, StandIn, TestRelay};

use crate::browser::Browser;

pub(crate) const TOKEN: &str = "test-admin-token-0123456789";

/// Reloads `url` until its text contains `text`; the text.
pub(crate) async fn wait_for_text(client: &Client, url: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        client.goto(url).await.unwrap();
        let body = client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if body.contains(text) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{text:?} never appeared on {url}:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (up to 20 s) until the browser's URL satisfies `done` (a form's POST answered and
/// followed); the URL. Fails naming `what` and where the browser is.
pub(crate) async fn wait_for_url(
    client: &Client,
    what: &str,
    done: impl Fn(&reqwest::Url) -> bool,
) -> reqwest::Url {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = client.current_url().await.unwrap();
        if done(&url) {
            return url;
        }
        assert!(Instant::now() < deadline, "{what}: still at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves a screenshot (always checked to be a PNG); also into `$KICK_RELAY_SCREENSHOTS` when set.
async fn screenshot(client: &Client, dir: &std::path::Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(dir.join(name), &png).unwrap();
    if let Some(out) = std::env::var_os("KICK_RELAY_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&out).join(name), &png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_a_failure_replays_a_dead_letter_and_disables_an_output() {
    // "flaky" fails twice (the delivery goes dead after its one retry), then takes everything.
    let flaky = StandIn::scripted(|n| {
        if n <= 2 {
            Reply::status(500).body("upstream down")
        } else {
            Reply::status(204)
        }
    })
    .await;
    let raw = StandIn::always(Reply::status(204)).await;
    let relay = TestRelay::start_with_admin_token(
        TOKEN,
        &format!(
            "[[output]]\nname = \"flaky\"\ntype = \"raw\"\nurl = \"{}\"\nretry_schedule_secs = [0.2]\n\
             [[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\n",
            flaky.url("/flaky"),
            raw.url("/raw")
        ),
    )
    .await;
    let body = br#"{"raid":{"viewers":3}}"#;
    assert_eq!(
        relay
            .post("01JADMIN000000000000000001", "channel.raid.started", body)
            .await
            .1,
        "accepted"
    );
    raw.wait_for(1, Duration::from_secs(10)).await;

    let browser = Browser::start().await;
    let client = &browser.client;
    let home = relay.admin_url("/");
    // The failing output's error is on the overview; reading needs no token on loopback.
    let page = wait_for_text(client, &home, "HTTP 500").await;
    assert!(page.contains("upstream down"), "{page}");
    assert!(page.contains("Log in to act"), "{page}");
    assert!(
        client
            .find_all(Locator::Css("form button"))
            .await
            .unwrap()
            .is_empty(),
        "no action without the token"
    );
    screenshot(client, &relay.dir, "admin-overview.png").await;
    // On a phone: the tables scroll sideways inside their frame, the page itself does not.
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&home).await.unwrap();
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        overflow,
        serde_json::Value::Bool(false),
        "the page is wider than a phone"
    );
    screenshot(client, &relay.dir, "admin-phone.png").await;
    client.set_window_size(1280, 1000).await.unwrap();
    let id = refused_without_the_token(client, &relay, &flaky).await;
    log_in(client, &relay).await;
    replay_with_a_click(client, &relay, &flaky, &id).await;
    disable_with_a_click(client, &relay, &flaky, &raw, body).await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_no_secret_and_bearer_scripts_can_act() {
    let hook = StandIn::always(Reply::status(204)).await;
    let secret_url = hook.url("/api/webhooks/1/very-secret-webhook-token");
    let relay = TestRelay::start_with_admin_token(
        TOKEN,
        &format!("[[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{secret_url}\"\n"),
    )
    .await;
    for path in ["/", "/deliveries", "/api/status", "/api/deliveries"] {
        let text = reqwest::get(relay.admin_url(path))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !text.contains("very-secret-webhook-token"),
            "{path} shows the webhook URL"
        );
        assert!(!text.contains(TOKEN), "{path} shows the admin token");
    }
    let disabled = reqwest::Client::new()
        .post(relay.admin_url("/api/outputs/discord/disable"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status().as_u16(), 200);
    let json: serde_json::Value = serde_json::from_str(&disabled.text().await.unwrap()).unwrap();
    assert_eq!(json["message"], "discord disabled");
    // A replay onto the disabled output is refused: its rows would stay pending for ever.
    let refused = reqwest::Client::new()
        .post(relay.admin_url("/api/outputs/discord/replay"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"status":"skipped"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 409);
    let text = refused.text().await.unwrap();
    assert!(text.contains("enable it first"), "{text}");
    let unknown = reqwest::Client::new()
        .post(relay.admin_url("/api/outputs/nope/enable"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

/// The dead letter is listed; replaying it without the token (or with a forged session) is
/// refused. Its id.
async fn refused_without_the_token(client: &Client, relay: &TestRelay, flaky: &StandIn) -> String {
    // The dead letter is listed; replaying it without the token is refused.
    let dead_url = relay.admin_url("/deliveries?output=flaky&status=dead");
    wait_for_text(client, &dead_url, "channel.raid.started").await;
    let id = client
        .find(Locator::Css("tr[data-id]"))
        .await
        .unwrap()
        .attr("data-id")
        .await
        .unwrap()
        .unwrap();
    let refused = reqwest::Client::new()
        .post(relay.admin_url(&format!("/api/deliveries/{id}/replay")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let forged = reqwest::Client::new()
        .post(relay.admin_url(&format!("/api/deliveries/{id}/replay")))
        .header("cookie", "kick_relay_session=guessed")
        .form(&[("csrf", "guessed")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(flaky.received().len(), 2, "nothing replayed");

    id
}

/// Logs in with the token.
pub(crate) async fn log_in(client: &Client, relay: &TestRelay) {
    let home = relay.admin_url("/");
    // Log in with the token.
    client.goto(&relay.admin_url("/login")).await.unwrap();
    client
        .find(Locator::Css("input[name=token]"))
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    client
        .find(Locator::Css("form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The form's POST redirects to the status page with the session cookie; navigating before
    // it has would abort it (seen once under a loaded CI run).
    wait_for_url(client, "the login form's answer", |url| {
        url.path() != "/login"
    })
    .await;
    wait_for_text(client, &home, "Log out").await;
}

/// "Replay" on the dead letter: the stand-in gets it and its page says delivered.
async fn replay_with_a_click(client: &Client, relay: &TestRelay, flaky: &StandIn, id: &str) {
    let dead_url = relay.admin_url("/deliveries?output=flaky&status=dead");
    // Replay the dead letter with a click: the stand-in gets it and the page says delivered.
    client.goto(&dead_url).await.unwrap();
    screenshot(client, &relay.dir, "admin-dead-letters.png").await;
    client
        .find(Locator::Css(&format!("tr[data-id=\"{id}\"] form button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    flaky.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(
        flaky.received().len(),
        3,
        "the replayed delivery reached the output"
    );
    let detail = wait_for_text(
        client,
        &relay.admin_url(&format!("/deliveries/{id}")),
        "delivered",
    )
    .await;
    assert!(
        detail.contains("upstream down"),
        "the failed attempts stay in its history: {detail}"
    );
    assert!(detail.contains("replayed by an operator"), "{detail}");
    let mut outcomes = Vec::new();
    for cell in client.find_all(Locator::Css("td .state")).await.unwrap() {
        outcomes.push(cell.text().await.unwrap());
    }
    assert_eq!(
        outcomes,
        ["retry", "dead", "replayed", "delivered"],
        "{detail}"
    );
    assert!(
        detail.contains("\"viewers\": 3"),
        "the event it carried: {detail}"
    );
    screenshot(client, &relay.dir, "admin-delivery.png").await;
    // The output's last error is the receiver's, not the replay, and no longer an alarm.
    let (_, status) = relay.admin_get("/api/status").await;
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let flaky_status = &status["outputs"][0];
    assert_eq!(flaky_status["name"], "flaky");
    assert!(
        flaky_status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("upstream down")),
        "{flaky_status}"
    );
    assert_eq!(flaky_status["recovered"], true, "{flaky_status}");
    client.goto(&relay.admin_url("/")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("delivering again; before:"), "{page}");
}

/// "Disable" on `raw`: the next event goes to `flaky` only.
async fn disable_with_a_click(
    client: &Client,
    relay: &TestRelay,
    flaky: &StandIn,
    raw: &StandIn,
    body: &[u8],
) {
    let home = relay.admin_url("/");
    // Disable "raw" with a click: the next event goes to "flaky" only.
    client.goto(&home).await.unwrap();
    client
        .find(Locator::Css("tr[data-output=\"raw\"] form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The form's POST has been handled before the page is loaded again (navigating earlier
    // would abort it).
    relay
        .wait_for_metric(
            "kick_relay_output_disabled{output=\"raw\"} 1",
            Duration::from_secs(20),
        )
        .await;
    let page = wait_for_text(client, &home, "disabled by operator").await;
    assert!(page.contains("Enable"), "{page}");
    assert_eq!(
        relay
            .post("01JADMIN000000000000000002", "channel.raid.started", body)
            .await
            .1,
        "accepted"
    );
    flaky.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(
        flaky.received().len(),
        4,
        "the other output got the new event"
    );
    assert_eq!(raw.received().len(), 1, "the disabled output got nothing");
    let status: serde_json::Value = serde_json::from_str(
        &reqwest::get(relay.admin_url("/api/status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let raw_state = status["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "raw")
        .unwrap();
    assert_eq!(raw_state["state"], "disabled");
}

/// The page's counts are the process's own: within the first hour after a start they say
/// since when, instead of passing a restart off as a quiet hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_kept_in_memory_say_since_when() {
    let clock = relay_tests::TestClock::default();
    let mut relay = TestRelay::start_with_clock(clock.clock(), "").await;
    let (_, page) = relay.admin_get("/").await;
    assert!(page.contains("events since the start, "), "{page}");
    assert!(
        page.contains("Events per minute, since the start"),
        "{page}"
    );
    assert!(
        page.contains("These counts are this relay process's, since it started"),
        "{page}"
    );
    let (_, status) = relay.admin_get("/api/status").await;
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(
        status["ingest"]["counting_for_secs"]
            .as_i64()
            .is_some_and(|secs| secs < 60),
        "{status}"
    );
    clock.advance(Duration::from_hours(2));
    let (_, page) = relay.admin_get("/").await;
    assert!(page.contains("events in the last hour"), "{page}");
    assert!(page.contains("since it started 2 h ago"), "{page}");
    relay.stop().await;
}
