//! Sending against a real HTTP server on 127.0.0.1: every kind of answer maps to its outcome.

use std::time::{Duration, SystemTime};

use relay_sinks::{
    DiscordSink, EventFilter, ForwardSink, HttpOptions, RawSink, SendOutcome, Sink, WebhookSecret,
    WebhookUrl,
};

use crate::support::{Reply, Server, chat};

const SHORT: HttpOptions = HttpOptions::new(Duration::from_millis(500), Duration::from_millis(500));

/// A fixed clock: sending needs `now` only to sign and to read `Retry-After` dates.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn discord(url: &str) -> DiscordSink {
    DiscordSink::new(
        "discord-test",
        url.parse().unwrap(),
        EventFilter::all(),
        SHORT,
    )
    .unwrap()
}

/// Sends one chat message to a server answering `reply`; returns the outcome and the server.
async fn discord_outcome(reply: Reply) -> (SendOutcome, Server) {
    let server = Server::always(reply).await;
    let sink = discord(&server.url("/api/webhooks/1/secret-token"));
    let request = sink.render(&chat("hello")).unwrap();
    (sink.send(&request, now()).await, server)
}

#[tokio::test]
async fn success_200_and_204() {
    for status in [200, 204] {
        let (outcome, server) = discord_outcome(Reply::status(status)).await;
        assert_eq!(outcome, SendOutcome::Delivered { status, wait: None });
        let received = server.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].uri.path(), "/api/webhooks/1/secret-token");
        assert_eq!(received[0].uri.query(), Some("wait=true"));
        assert_eq!(received[0].headers["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
        assert_eq!(body["content"], "hello");
    }
}

#[tokio::test]
async fn an_empty_bucket_after_success_asks_to_wait() {
    let reply = Reply::status(200)
        .header("x-ratelimit-limit", "5")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset-after", "1.5");
    let (outcome, _) = discord_outcome(reply).await;
    assert_eq!(
        outcome,
        SendOutcome::Delivered {
            status: 200,
            wait: Some(Duration::from_millis(1500))
        }
    );
    let reply = Reply::status(200)
        .header("x-ratelimit-remaining", "3")
        .header("x-ratelimit-reset-after", "1.5");
    assert_eq!(discord_outcome(reply).await.0.wait(), None);
}

#[tokio::test]
async fn bad_request_is_permanent() {
    let (outcome, _) = discord_outcome(
        Reply::status(400).body(r#"{"code": 50035, "message": "Invalid Form Body"}"#),
    )
    .await;
    let SendOutcome::Permanent {
        status: 400,
        reason,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("50035"), "{reason}");
}

#[tokio::test]
async fn gone_or_refused_disables_the_output() {
    for status in [401, 403, 404, 410] {
        let (outcome, _) = discord_outcome(Reply::status(status)).await;
        assert!(
            matches!(outcome, SendOutcome::Disable { status: s, .. } if s == status),
            "{outcome:?}"
        );
    }
    let (outcome, _) = discord_outcome(
        Reply::status(404).body(r#"{"message": "Unknown Webhook", "code": 10015}"#),
    )
    .await;
    let SendOutcome::Disable {
        status: 404,
        reason,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(
        reason.contains("10015") && reason.contains("deleted"),
        "{reason}"
    );
}

#[tokio::test]
async fn rate_limited_with_retry_after_in_the_body() {
    let reply = Reply::status(429)
        .header("x-ratelimit-scope", "shared")
        .body(
            r#"{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}"#,
        );
    let (outcome, _) = discord_outcome(reply).await;
    let SendOutcome::Retry {
        status: Some(429),
        after,
        rate_limited: true,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(after, Some(Duration::from_millis(640)));
}

#[tokio::test]
async fn rate_limited_with_a_retry_after_header_in_seconds_and_as_a_date() {
    let (outcome, _) = discord_outcome(Reply::status(429).header("retry-after", "7")).await;
    assert_eq!(outcome.wait(), Some(Duration::from_secs(7)));

    let now = now();
    let server = Server::always(Reply::status(429).header(
        "retry-after",
        httpdate::fmt_http_date(now + Duration::from_mins(2)),
    ))
    .await;
    let sink = RawSink::new(
        "raw",
        server.url("/").parse().unwrap(),
        EventFilter::all(),
        None,
        SHORT,
    )
    .unwrap();
    let request = sink.render(&chat("x")).unwrap();
    let wait = sink.send(&request, now).await.wait().unwrap();
    assert!(
        (Duration::from_secs(119)..=Duration::from_mins(2)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried() {
    for status in [500, 502, 503, 504] {
        let (outcome, _) = discord_outcome(Reply::status(status).header("retry-after", "3")).await;
        assert!(
            matches!(outcome, SendOutcome::Retry { status: Some(s), rate_limited: false, after: Some(a), .. } if s == status && a == Duration::from_secs(3)),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let target = Server::always(Reply::status(200)).await;
    let (outcome, _) =
        discord_outcome(Reply::status(302).header("location", target.url("/elsewhere"))).await;
    let SendOutcome::Permanent {
        status: 302,
        reason,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("not followed"), "{reason}");
    assert!(
        target.received().is_empty(),
        "the redirect target was contacted"
    );
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let (outcome, _) = discord_outcome(Reply::status(200).delay(Duration::from_secs(3))).await;
    let SendOutcome::Retry {
        status: None,
        reason,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("timed out"), "{reason}");
}

#[tokio::test]
async fn connection_refused_is_retried_and_the_url_is_not_in_the_reason() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let sink = discord(&format!("http://{addr}/api/webhooks/1/secret-token"));
    let outcome = sink.send(&sink.render(&chat("x")).unwrap(), now()).await;
    let SendOutcome::Retry {
        status: None,
        reason,
        rate_limited: false,
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("connection failed"), "{reason}");
    assert!(!reason.contains("secret-token"), "{reason}");
    assert!(!format!("{sink:?}").contains("secret-token"));
}

#[tokio::test]
async fn raw_outputs_sign_each_attempt_with_standard_webhooks_headers() {
    let server = Server::always(Reply::status(204)).await;
    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let sink = RawSink::new(
        "raw",
        server.url("/hook").parse().unwrap(),
        EventFilter::all(),
        Some(secret.clone()),
        SHORT,
    )
    .unwrap();
    let request = sink.render(&chat("signed")).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(
        sink.send(&request, now).await,
        SendOutcome::Delivered {
            status: 204,
            wait: None
        }
    );
    let received = &server.received()[0];
    assert_eq!(received.headers["webhook-id"], "01JMND5PS7XQ0V3F9E2B4C6D8A");
    assert_eq!(received.headers["webhook-timestamp"], "1700000000");
    let expected = secret.sign("01JMND5PS7XQ0V3F9E2B4C6D8A", 1_700_000_000, &received.body);
    assert_eq!(received.headers["webhook-signature"], expected.as_str());
    assert_eq!(received.body, request.body);
}

#[tokio::test]
async fn forward_sends_the_kick_headers_and_body_unchanged() {
    let server = Server::always(Reply::status(200)).await;
    let sink = ForwardSink::new(
        "fwd",
        server.url("/kick").parse().unwrap(),
        EventFilter::all(),
        SHORT,
    )
    .unwrap();
    let delivery = chat("forward me");
    let outcome = sink.send(&sink.render(&delivery).unwrap(), now()).await;
    assert_eq!(
        outcome,
        SendOutcome::Delivered {
            status: 200,
            wait: None
        }
    );
    let received = &server.received()[0];
    assert_eq!(received.body.as_ref(), delivery.body.as_ref());
    assert_eq!(received.headers["kick-event-signature"], "c2lnbmF0dXJl");
    assert_eq!(received.headers["kick-event-type"], "chat.message.sent");
}

#[test]
fn urls_that_are_not_http_are_refused() {
    for url in ["ftp://example.com/x", "not a url", "http://"] {
        let err = WebhookUrl::parse(url).unwrap_err().to_string();
        assert!(err.starts_with("invalid url"), "{url}: {err}");
    }
    let secret = WebhookUrl::parse("https://discord.com/api/webhooks/1/s3cr3t").unwrap();
    assert!(
        !format!("{secret:?}").contains("s3cr3t"),
        "a URL holds secrets: never printed"
    );
}
