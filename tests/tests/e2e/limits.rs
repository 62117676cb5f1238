//! Memory bounds of the public listener: connections over `server.max_connections` wait in
//! the backlog until a served one closes; request bodies beyond
//! `server.max_buffered_body_bytes` get 503 with `Retry-After`, and a declared length over
//! `server.max_body_bytes` gets 413 before any body is read.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use relay_tests::TestRelay;

/// Reads one answer's head (up to 1 KiB); `None` when nothing arrives within `limit`.
async fn answer_within(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut buffer = vec![0_u8; 1024];
    match tokio::time::timeout(limit, stream.read(&mut buffer)).await {
        Ok(Ok(n)) => Some(String::from_utf8_lossy(&buffer[..n]).into_owned()),
        Ok(Err(err)) => Some(format!("read error: {err}")),
        Err(_) => None,
    }
}

const GET: &[u8] = b"GET /webhooks/kick HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_until_one_closes() {
    let mut relay = TestRelay::start_fresh_with(
        &[("max_connections", "2"), ("header_timeout_secs", "60")],
        "",
    )
    .await;
    let addr = relay.running.as_ref().unwrap().public_addr;
    // Two kept-alive connections hold both slots.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(GET).await.unwrap();
        let answer = answer_within(&mut stream, Duration::from_secs(10)).await;
        assert!(
            answer
                .as_deref()
                .is_some_and(|a| a.starts_with("HTTP/1.1 405")),
            "{answer:?}"
        );
        held.push(stream);
    }
    // A third connects (the kernel's backlog) but is not served while both are open.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(GET).await.unwrap();
    let early = answer_within(&mut third, Duration::from_millis(500)).await;
    assert_eq!(early, None, "served beyond server.max_connections");
    // One closes: the third is served.
    drop(held.pop());
    let answer = answer_within(&mut third, Duration::from_secs(10)).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 405")),
        "{answer:?}"
    );
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_beyond_the_buffer_budget_get_503_while_small_ones_still_pass() {
    let mut relay = TestRelay::start_fresh_with(
        &[
            ("max_body_bytes", "100000"),
            ("max_buffered_body_bytes", "200000"),
            ("body_timeout_secs", "60"),
        ],
        "",
    )
    .await;
    let addr = relay.running.as_ref().unwrap().public_addr;
    let head = |length: usize| {
        format!("POST /webhooks/kick HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n")
    };
    // A whole request with a `length`-byte body: the answer's head. A refused request is
    // answered before its body is read, so the body is sent only when no early answer came:
    // writing it into a connection the relay has answered and closed would make the kernel
    // reset the connection, and the reset can discard the answer before it is read.
    let whole = |length: usize| async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head(length).as_bytes()).await.unwrap();
        if let Some(early) = answer_within(&mut stream, Duration::from_millis(200)).await {
            return early;
        }
        stream.write_all(&vec![b' '; length]).await.unwrap();
        answer_within(&mut stream, Duration::from_secs(10))
            .await
            .unwrap_or_default()
    };

    // Declared too large: 413 without sending a byte of body.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head(100_001).as_bytes()).await.unwrap();
    let answer = answer_within(&mut stream, Duration::from_secs(10)).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 413")),
        "{answer:?}"
    );

    // Two slow 100 kB bodies take the whole budget.
    let slow_body = || async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(head(100_000).as_bytes()).await.unwrap();
        stream.write_all(&[b' '; 10]).await.unwrap();
        stream
    };
    let mut slow = vec![slow_body().await, slow_body().await];
    // A 50 kB request now finds no room once both reservations are in: poll for it. A probe
    // that was served before the second slow body arrived leaves that one refused (100 + 50 +
    // 100 kB do not fit): such a slow body is sent again.
    let mut refused = None;
    for _ in 0..100 {
        let answer = whole(50_000).await;
        if answer.starts_with("HTTP/1.1 503") {
            refused = Some(answer);
            break;
        }
        for stream in &mut slow {
            if answer_within(stream, Duration::from_millis(10))
                .await
                .is_some()
            {
                *stream = slow_body().await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("a request beyond server.max_buffered_body_bytes gets 503");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    assert!(refused.contains("max_buffered_body_bytes"), "{refused}");
    // A Kick-sized body needs no room in the budget: still read and answered (unsigned: 400).
    let answer = whole(2_000).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // One slow body completes (unsigned: 400): its room is free again.
    let mut first = slow.remove(0);
    first.write_all(&vec![b' '; 99_990]).await.unwrap();
    let answer = answer_within(&mut first, Duration::from_secs(10)).await;
    assert!(
        answer
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 400")),
        "{answer:?}"
    );
    let answer = whole(50_000).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let metrics = relay.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.contains("outcome=\"busy\"") && !l.ends_with(" 0")),
        "{metrics}"
    );
    drop(slow);
    relay.stop().await;
}
