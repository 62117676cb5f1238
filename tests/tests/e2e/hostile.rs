//! Hostile HTTP input against a running relay: each gets a 4xx (or 200 where it is a signed
//! delivery), never a 5xx, and the relay keeps serving.

use std::{fmt::Write as _, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use relay_tests::TestRelay;

/// Sends raw bytes and returns the status code of the answer (0 when the connection closed
/// without one).
async fn raw_status(relay: &TestRelay, request: &[u8]) -> u16 {
    let addr = relay.running.as_ref().unwrap().public_addr;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut answer = vec![0_u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .map_or(0, |r| r.unwrap_or(0));
    let text = String::from_utf8_lossy(&answer[..n]);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_never_gets_a_5xx() {
    let mut relay = TestRelay::start("").await;
    let path = "/webhooks/kick";
    let many_headers = (0..100).fold(String::new(), |mut all, i| {
        let _ = writeln!(all, "X-Filler-{i}: {i}\r");
        all
    });
    let huge_header = format!("X-Huge: {}\r\n", "a".repeat(64 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").into_bytes()),
        ("100 headers", format!("POST {path} HTTP/1.1\r\nHost: x\r\n{many_headers}Content-Length: 2\r\n\r\n{{}}").into_bytes()),
        ("64 KiB header", format!("POST {path} HTTP/1.1\r\nHost: x\r\n{huge_header}Content-Length: 2\r\n\r\n{{}}").into_bytes()),
        ("NUL in a Kick header", format!("POST {path} HTTP/1.1\r\nHost: x\r\nKick-Event-Type: chat\0sent\r\nContent-Length: 2\r\n\r\n{{}}").into_bytes()),
        ("non-ASCII in a Kick header", format!("POST {path} HTTP/1.1\r\nHost: x\r\nKick-Event-Message-Id: é\r\nContent-Length: 2\r\n\r\n{{}}").into_bytes()),
        ("path traversal", b"POST /webhooks/../admin/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_vec()),
        ("encoded traversal", b"GET /webhooks/kick/..%2f..%2fmetrics HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("DELETE", format!("DELETE {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n".to_vec()),
    ];
    for (what, request) in cases {
        let status = raw_status(&relay, &request).await;
        assert!(
            status == 0 || (400..500).contains(&status),
            "{what}: got {status}"
        );
    }
    // Still serving.
    assert_eq!(
        reqwest::get(relay.admin_url("/healthz"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_kick_headers_are_refused() {
    let mut relay = TestRelay::start("").await;
    let now = relay_tests::now_rfc3339();
    let mut headers = relay.signer.headers(
        "01JHOSTILE0000000000000001",
        &now,
        "chat.message.sent",
        b"{}",
    );
    headers.push(("Kick-Event-Message-Id", "01JHOSTILE0000000000000002".into()));
    let (status, text) = relay.post_with(&headers, b"{}".to_vec()).await;
    assert_eq!(status, 400);
    assert!(text.contains("more than once"), "{text}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_but_broken_bodies_are_accepted_and_stored_unparsed() {
    let mut relay = TestRelay::start("").await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for (i, body) in [
        b"\xff\xfe invalid utf-8".to_vec(),
        deep.into_bytes(),
        b"{\"content\": 5}".to_vec(),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, text) = relay
            .post(&format!("01JBROKEN{i:017}"), "chat.message.sent", &body)
            .await;
        assert_eq!(
            (status, text.as_str()),
            (200, "accepted"),
            "body {i}: Kick must not see failures for what it signed"
        );
    }
    // A repeat of a broken body is a duplicate, counted once as such.
    let (_, again) = relay
        .post(
            "01JBROKEN00000000000000000",
            "chat.message.sent",
            b"{\"content\": 5}",
        )
        .await;
    assert_eq!(again, "duplicate");
    let metrics = relay.metrics().await;
    assert!(
        metrics.contains("kick_relay_requests_total{outcome=\"unparsed\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("kick_relay_inbox_rows 3"), "{metrics}");
    // One outcome per request: four requests, four counts.
    let total: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("kick_relay_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 4, "{metrics}");
    assert!(
        metrics.contains("kick_relay_requests_total{outcome=\"duplicate\"} 1"),
        "{metrics}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_of_the_wrong_shape_and_timestamps_out_of_range() {
    let mut relay = TestRelay::start("").await;
    let now = relay_tests::now_rfc3339();
    let good = relay.signer.headers(
        "01JSHAPE000000000000000001",
        &now,
        "chat.message.sent",
        b"{}",
    );
    for signature in [
        "",
        "AAAA",
        &"A".repeat(2000),
        "!!!!",
        &base64_of(&[1_u8; 255]),
    ] {
        let mut headers = good.clone();
        headers[2].1 = signature.to_owned();
        assert_eq!(
            relay.post_with(&headers, b"{}".to_vec()).await.0,
            400,
            "signature {signature:.20}"
        );
    }
    for timestamp in [
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "not a time",
        "2025-13-45T99:99:99Z",
    ] {
        let headers = relay.signer.headers(
            "01JSHAPE000000000000000002",
            timestamp,
            "chat.message.sent",
            b"{}",
        );
        assert_eq!(
            relay.post_with(&headers, b"{}".to_vec()).await.0,
            400,
            "timestamp {timestamp}"
        );
    }
    relay.stop().await;
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_endless_bodies_time_out_with_408() {
    let mut relay = TestRelay::start("").await;
    // The test relay allows 1 s for a body (server.body_timeout_secs, see TestRelay).
    let addr = relay.running.as_ref().unwrap().public_addr;
    for head in [
        "POST /webhooks/kick HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"partial\": ",
        "POST /webhooks/kick HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        // Never finish the body.
        let mut answer = vec![0_u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(text.starts_with("HTTP/1.1 408"), "{head:?}: {text}");
    }
    // Counted as what they were, not as bad headers.
    let metrics = relay.metrics().await;
    assert_eq!(
        relay_tests::metric(
            &metrics,
            "kick_relay_requests_total{outcome=\"body_timeout\"}"
        ),
        2,
        "{metrics}"
    );
    assert_eq!(
        relay_tests::metric(
            &metrics,
            "kick_relay_requests_total{outcome=\"bad_header\"}"
        ),
        0
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_that_never_finish_get_the_connection_closed() {
    let mut relay = TestRelay::start("").await;
    // The test relay allows 1 s for headers (server.header_timeout_secs, see TestRelay).
    let addr = relay.running.as_ref().unwrap().public_addr;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /webhooks/kick HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        .await
        .unwrap();
    let mut answer = vec![0_u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the relay closes the connection instead of waiting forever")
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    // Still serving others.
    assert_eq!(
        reqwest::get(relay.admin_url("/healthz"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    relay.stop().await;
}
