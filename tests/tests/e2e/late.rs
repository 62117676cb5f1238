//! Kick as it really delivers: late. A delivery signed hours ago with a new message id is kept
//! and relayed, its repeat is a duplicate, one older than the duplicate memory or from the
//! future is refused saying by how much; a Discord output records late chat as expired while a
//! raw output still gets it. On SQLite and on PostgreSQL.

use std::time::Duration;

use relay_tests::{DiscordStandIn, PgCluster, Reply, StandIn, TestRelay, metric, rfc3339_ago};
use serde_json::Value;

use crate::signed_delivery::official_payloads;

/// A chat message with its own chat message id (the relay's second duplicate key).
fn chat(n: usize, text: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&official_payloads()[0].1).unwrap();
    body["message_id"] = format!("00000000-0000-4000-8000-{n:012}").into();
    body["content"] = text.into();
    body["emotes"] = Value::Null;
    serde_json::to_vec(&body).unwrap()
}

async fn post_at(relay: &TestRelay, id: &str, secs_ago: i64, body: &[u8]) -> (u16, String) {
    let headers = relay
        .signer
        .headers(id, &rfc3339_ago(secs_ago), "chat.message.sent", body);
    relay.post_with(&headers, body.to_vec()).await
}

/// `[storage]` keys and the two outputs: a raw one (in order, one at a time) and a Discord one.
fn config(raw: &str, discord: &str) -> String {
    format!(
        "retention_days = 1\n\
         [[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{raw}\"\nmax_in_flight = 1\n\
         [[output]]\nname = \"discord\"\ntype = \"discord\"\nurl = \"{discord}\"\n"
    )
}

async fn late_deliveries_are_kept(mut relay: TestRelay, raw: StandIn, discord: DiscordStandIn) {
    const LATE: &str = "01JLATE0000000000000000001";
    const ON_TIME: &str = "01JLATE0000000000000000002";
    // Two hours late: outside the old 10-minute window, well inside the duplicate memory.
    let late = chat(1, "sent two hours ago");
    assert_eq!(
        post_at(&relay, LATE, 7200, &late).await,
        (200, "accepted".into())
    );
    assert_eq!(
        post_at(&relay, LATE, 7200, &late).await,
        (200, "duplicate".into()),
        "Kick's retry of it"
    );
    // retention_days = 1: the window reaches back 24 h less 5 min (the most a timestamp may
    // lead) and an hour's margin, 82,500 s.
    let (status, text) = post_at(
        &relay,
        "01JLATE0000000000000000003",
        23 * 3600,
        &chat(3, "x"),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("stale") && text.contains("s more than the 82500 s allowed"),
        "{text}"
    );
    let (status, text) = post_at(&relay, "01JLATE0000000000000000004", -600, &chat(4, "x")).await;
    assert_eq!(status, 400, "{text}");
    assert!(
        // 600 s ahead when signed; 599 s when a second ticked before the check.
        text.contains("s in the future") && text.contains("more than the 300 s allowed"),
        "{text}"
    );
    assert_eq!(
        post_at(&relay, ON_TIME, 0, &chat(2, "on time")).await,
        (200, "accepted".into())
    );

    // The raw output gets the late event once, then the one on time: the duplicate was never
    // queued (it would have gone out between them, one at a time, in order).
    let got = raw.wait_for(2, Duration::from_secs(10)).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert_eq!(ids, [LATE, ON_TIME]);
    // Discord: chat two hours late is not posted but recorded as expired (replayable); the
    // chat on time is posted.
    let posted = discord
        .wait_until(Duration::from_secs(10), |p| !p.is_empty())
        .await;
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"discord\",status=\"expired\"} 1",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        posted
            .iter()
            .map(|p| p.content.as_str())
            .collect::<Vec<_>>(),
        ["on time"]
    );
    late_and_refused_are_counted(&relay).await;
    relay.stop().await;
}

/// Two late deliveries (one and Kick's retry of it) and two refused ones, in `/metrics`,
/// `/api/status` and on the admin page.
async fn late_and_refused_are_counted(relay: &TestRelay) {
    let metrics = relay.metrics().await;
    assert_eq!(
        metric(&metrics, "kick_relay_late_deliveries_total"),
        2,
        "the late delivery and Kick's retry of it:\n{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "kick_relay_delivery_age_seconds_bucket{le=\"21600\"}"
        ) - metric(
            &metrics,
            "kick_relay_delivery_age_seconds_bucket{le=\"3600\"}"
        ),
        2,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "kick_relay_requests_total{outcome=\"stale\"}"),
        2,
        "{metrics}"
    );
    // The admin page says so too.
    let status: Value = serde_json::from_str(&relay.admin_get("/api/status").await.1).unwrap();
    assert_eq!(status["ingest"]["late"], 2, "{status}");
    assert_eq!(status["ingest"]["stale"], 2, "{status}");
    let (_, page) = relay.admin_get("/").await;
    assert!(
        page.contains("<div class=\"n\">2 / 2</div><div class=\"l\">late (over 10 min)"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_deliveries_are_kept_on_sqlite() {
    let raw = StandIn::always(Reply::status(204)).await;
    let discord = DiscordStandIn::start().await;
    let relay = TestRelay::start(&config(&raw.url("/hook"), &discord.url())).await;
    late_deliveries_are_kept(relay, raw, discord).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_deliveries_are_kept_on_postgres() {
    let cluster = PgCluster::start();
    let raw = StandIn::always(Reply::status(204)).await;
    let discord = DiscordStandIn::start().await;
    let relay = TestRelay::start_on_database(
        &cluster.new_database(),
        &config(&raw.url("/hook"), &discord.url()),
    )
    .await;
    late_deliveries_are_kept(relay, raw, discord).await;
}

/// A strict window can still be had, but not one reaching past the duplicate memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_window_is_kept_inside_the_duplicate_memory() {
    let dir = TestRelay::fresh_dir();
    let path = TestRelay::write_config_with(
        &dir,
        &[("timestamp_tolerance_secs", "90000")],
        "retention_days = 1\n",
    );
    let err = relay_bin::config::Config::load(Some(&path))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("server.timestamp_tolerance_secs = 90000")
            && err.contains("Use at most 82500"),
        "{err}"
    );
    let path = TestRelay::write_config(&dir, "retention_days = 0\n");
    let err = relay_bin::config::Config::load(Some(&path))
        .unwrap_err()
        .to_string();
    assert!(err.contains("storage.retention_days = 0"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    let mut relay = TestRelay::start_fresh_with(&[("timestamp_tolerance_secs", "600")], "").await;
    let (status, text) = post_at(&relay, "01JSTRICT00000000000000001", 7200, &chat(1, "x")).await;
    assert_eq!(status, 400);
    assert!(
        text.contains("s more than the 600 s allowed") && text.contains("stale: 720"),
        "{text}"
    );
    relay.stop().await;
}

/// The review's attack: unsigned requests with timestamps far in the future fed the skew
/// metric before the signature was checked, and its sum wrapped past `u64::MAX` after 80,000
/// of them. Now no unsigned request is counted at all (so their number does not matter: 2,000
/// here, half far ahead, half inside the window with a wrong signature), and one signed
/// delivery is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_requests_leave_the_timestamp_metrics_alone() {
    let mut relay = TestRelay::start("").await;
    let body = chat(1, "x");
    let client = reqwest::Client::new();
    let url = relay.webhook_url();
    let mut sent = tokio::task::JoinSet::new();
    for n in 0..2000_u32 {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        let timestamp = if n % 2 == 0 {
            "9999-12-31T23:59:59Z".to_owned()
        } else {
            rfc3339_ago(0)
        };
        sent.spawn(async move {
            client
                .post(url)
                .header("Kick-Event-Message-Id", format!("01JUNSIGNED{n:015}"))
                .header("Kick-Event-Subscription-Id", "sub")
                .header("Kick-Event-Signature", "AAAA".repeat(86) + "AA==")
                .header("Kick-Event-Message-Timestamp", timestamp)
                .header("Kick-Event-Type", "chat.message.sent")
                .header("Kick-Event-Version", "1")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        if sent.len() >= 32 {
            assert_eq!(sent.join_next().await.unwrap().unwrap(), 400);
        }
    }
    while let Some(status) = sent.join_next().await {
        assert_eq!(status.unwrap(), 400);
    }
    let metrics = relay.metrics().await;
    for line in [
        "kick_relay_timestamp_skew_ms_sum",
        "kick_relay_timestamp_skew_ms_count",
        "kick_relay_delivery_age_seconds_count",
    ] {
        assert_eq!(metric(&metrics, line), 0, "{line}:\n{metrics}");
    }
    assert_eq!(
        metric(&metrics, "kick_relay_requests_total{outcome=\"stale\"}")
            + metric(
                &metrics,
                "kick_relay_requests_total{outcome=\"bad_signature\"}"
            ),
        2000
    );
    assert_eq!(
        post_at(&relay, "01JSIGNED00000000000000001", 3, &body).await,
        (200, "accepted".into())
    );
    let metrics = relay.metrics().await;
    assert_eq!(metric(&metrics, "kick_relay_timestamp_skew_ms_count"), 1);
    assert!(
        metric(&metrics, "kick_relay_timestamp_skew_ms_sum") <= 5_000,
        "{metrics}"
    );
    relay.stop().await;
}
