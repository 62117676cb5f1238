//! The admin listener against a hostile page and a guessing client: security headers on every
//! answer, no reads for a page that reached it by DNS rebinding, wrong tokens slowed down per
//! address, no URL of the page built from an unchecked value, no redirect off the listener.

use std::time::Duration;

use fantoccini::Locator;
use relay_tests::{Reply, StandIn, TestRelay};

use crate::{
    admin_page::{TOKEN, log_in, wait_for_text, wait_for_url},
    browser::Browser,
};

fn outputs(url: &str) -> String {
    format!(
        "[[output]]\nname = \"disc-ok\"\ntype = \"raw\"\nurl = \"{url}\"\nretry_schedule_secs = [0.1]\n"
    )
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

const EXPECTED: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("content-security-policy", "frame-ancestors 'none'"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_answer_carries_the_security_headers_and_foreign_hosts_read_nothing() {
    let sink = StandIn::always(Reply::status(204)).await;
    let relay = TestRelay::start_with_admin_token(TOKEN, &outputs(&sink.url("/hook"))).await;
    assert_eq!(relay.post_numbered("01JHEAD", 0).await, 200);
    let client = no_redirects();
    let get = |path: &str| client.get(relay.admin_url(path));
    let post = |path: &str| client.post(relay.admin_url(path));
    for (what, request) in [
        ("/", get("/")),
        ("/deliveries", get("/deliveries?status=pending")),
        ("/deliveries/1", get("/deliveries/1")),
        ("/deliveries/abc", get("/deliveries/abc")),
        ("/login", get("/login")),
        ("/metrics", get("/metrics")),
        ("/healthz", get("/healthz")),
        ("/readyz", get("/readyz")),
        ("/api/status", get("/api/status")),
        ("/api/deliveries", get("/api/deliveries")),
        ("/api/deliveries/1", get("/api/deliveries/1")),
        ("bad filter", get("/deliveries?status=<b>nope")),
        ("unknown path", get("/nope")),
        ("POST /login", post("/login").form(&[("token", TOKEN)])),
        ("POST /logout", post("/logout")),
        (
            "POST replay",
            post("/api/deliveries/1/replay").bearer_auth(TOKEN),
        ),
        (
            "POST enable",
            post("/api/outputs/disc-ok/enable").bearer_auth(TOKEN),
        ),
        ("refused action", post("/api/outputs/disc-ok/disable")),
    ] {
        let response = request.send().await.unwrap();
        for (name, value) in EXPECTED {
            let got = response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert!(got.contains(value), "{what}: {name} is {got:?}");
        }
    }
    // The bad filter is not reflected as markup.
    let text = get("/deliveries?status=<b>nope")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("<b>nope"), "{text}");
    // A limit outside 1..=1000 is refused, not bent into range.
    for limit in ["0", "1001", "-5"] {
        let response = get(&format!("/api/deliveries?limit={limit}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "limit={limit}");
        let text = response.text().await.unwrap();
        assert!(text.contains("outside 1 to 1000"), "{text}");
    }
    assert_eq!(
        get("/api/deliveries?limit=1000")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    // DNS rebinding: a page on evil.example that resolved its name to the listener's address
    // sends its own Host. Nothing is read; health probes still answer.
    for path in [
        "/",
        "/api/status",
        "/api/deliveries",
        "/metrics",
        "/deliveries/1",
    ] {
        let response = get(path)
            .header("host", "evil.example:9091")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 421, "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains("admin.allowed_hosts"), "{text}");
        assert!(!text.contains("custom.event"), "{text}");
    }
    for path in ["/healthz", "/readyz"] {
        let response = get(path)
            .header("host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    let local = get("/api/status")
        .header("host", "localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(local.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_slowed_down_per_address() {
    let relay = TestRelay::start_with_admin_token(TOKEN, "").await;
    let client = no_redirects();
    for n in 0..5 {
        let response = client
            .post(relay.admin_url("/login"))
            .form(&[("token", "not-the-token")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "try {n}");
    }
    // The sixth try must wait, even with the right token, and so must a script's bearer.
    let waiting = client
        .post(relay.admin_url("/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(waiting.status().as_u16(), 429);
    assert_eq!(waiting.headers()["retry-after"], "1");
    let bearer = client
        .get(relay.admin_url("/api/status"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status().as_u16(), 429);
    // Reading without a token is not a guess: still open on loopback.
    let open = client
        .get(relay.admin_url("/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status().as_u16(), 200);
    // Once the wait is over, the right token works and clears the address.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let login = client
        .post(relay.admin_url("/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let wrong = client
        .post(relay.admin_url("/login"))
        .form(&[("token", "again-wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403, "counting starts again");
}

/// A crafted link cannot make a button act on something else, and a form cannot send the
/// browser off the listener, in a real browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_link_cannot_retarget_a_button_nor_a_form_leave_the_listener() {
    let sink = StandIn::always(Reply::status(500)).await;
    let relay = TestRelay::start_with_admin_token(TOKEN, &outputs(&sink.url("/hook"))).await;
    assert_eq!(relay.post_numbered("01JCRAFT", 0).await, 200);
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"disc-ok\",status=\"dead\"} 1",
            Duration::from_secs(10),
        )
        .await;
    let browser = Browser::start().await;
    let client = &browser.client;
    log_in(client, &relay).await;

    // The review's link: its "Replay dead deliveries" button would have posted to
    // /api/outputs/disc-ok/disable?/replay. Now the page is a 404 with no button at all.
    wait_for_text(
        client,
        &relay.admin_url("/deliveries?output=disc-ok/disable%3F&status=dead"),
        "no output named \"disc-ok/disable?\"",
    )
    .await;
    assert!(
        client
            .find_all(Locator::Css("main form"))
            .await
            .unwrap()
            .is_empty()
    );
    // The real output's button posts to its own replay, whatever else the link carried.
    client
        .goto(&relay.admin_url("/deliveries?output=disc-ok&status=dead"))
        .await
        .unwrap();
    let action = client
        .find(Locator::Css("main form[action*='/api/outputs/']"))
        .await
        .unwrap()
        .attr("action")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(action, "/api/outputs/disc-ok/replay");

    // A form whose return_to was tampered with lands on the status page, not elsewhere.
    for evil in [
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "https://evil.example/",
    ] {
        client
            .goto(&relay.admin_url("/deliveries?output=disc-ok&status=dead"))
            .await
            .unwrap();
        client
            .execute(
                "document.querySelector(\"main form[action*='/api/outputs/'] input[name=return_to]\").value = arguments[0];",
                vec![serde_json::Value::String(evil.to_owned())],
            )
            .await
            .unwrap();
        client
            .find(Locator::Css("main form[action*='/api/outputs/'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let url = wait_for_url(client, evil, |url| url.path() == "/").await;
        assert_eq!(url.host_str(), Some("127.0.0.2"), "{evil:?} led to {url}");
    }
    wait_for_text(client, &relay.admin_url("/"), "disc-ok").await;
    browser.quit().await;
}

/// Without `admin.token` the login page says there is nothing to log in to, and how to turn
/// actions on, instead of calling every token wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_login_page_says_how_to_turn_actions_on() {
    let mut relay = TestRelay::start("").await;
    let (status, page) = relay.admin_get("/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("This relay has no admin token"), "{page}");
    let refused = reqwest::Client::new()
        .post(relay.admin_url("/login"))
        .form(&[("token", "anything-at-all-0123")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("This relay has no admin token") && !page.contains("not the admin token"),
        "{page}"
    );
    relay.stop().await;
}
