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

/// Signed 600 KiB bodies behind an output that stalls: the worker's feed and its reads of the
/// store stop at their byte bounds (8 MiB) instead of holding a thousand such events, and the
/// rows past a cut read are read next, in order: every event arrives once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_events_behind_a_stalled_output_arrive_once_and_in_order() {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let held = std::sync::Arc::clone(&gate);
    let sink = relay_tests::StandIn::scripted(move |n| {
        let reply = relay_tests::Reply::status(204);
        if n == 1 {
            relay_tests::Reply {
                gate: Some(std::sync::Arc::clone(&held)),
                ..reply
            }
        } else {
            reply
        }
    })
    .await;
    let mut relay = TestRelay::start(&format!(
        "[[output]]\nname = \"raw\"\ntype = \"raw\"\nurl = \"{}\"\nmax_in_flight = 1\n",
        sink.url("/hook")
    ))
    .await;
    let filler = "x".repeat(600 * 1024);
    let ids: Vec<String> = (0..30).map(|n| format!("01JLARGE{n:018}")).collect();
    for (n, id) in ids.iter().enumerate() {
        let body = format!("{{\"n\":{n},\"filler\":\"{filler}\"}}");
        assert_eq!(
            relay.post(id, "custom.event", body.as_bytes()).await.0,
            200,
            "{id}"
        );
    }
    // The first send was held while all 30 were committed (18 MiB of events): let it go.
    gate.add_permits(1);
    let got = sink.wait_for(30, Duration::from_secs(30)).await;
    let sent: Vec<String> = got
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, ids);
    relay
        .wait_for_metric(
            "kick_relay_outbox_rows{output=\"raw\",status=\"delivered\"} 30",
            Duration::from_secs(10),
        )
        .await;
    relay.stop().await;
}

/// A hundred connections that never finish their headers on the admin port do not keep a
/// liveness probe waiting: the admin listener has slots for them, and takes a slot back from a
/// client that has not sent its headers within 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_on_the_admin_port_leave_health_probes_answered() {
    // The public listener's own header deadline (the default 10 s) is not the admin's.
    let mut relay = TestRelay::start_fresh_with(&[("header_timeout_secs", "10")], "").await;
    let admin = relay.running.as_ref().unwrap().admin_addr;
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(admin).await.unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHo")
            .await
            .unwrap();
        slow.push(stream);
    }
    let mut probe = TcpStream::connect(admin).await.unwrap();
    probe
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = answer_within(&mut probe, Duration::from_secs(5))
        .await
        .expect("the probe is answered while the slow clients hold their connections");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The slow clients are let go once their 2 s for headers have passed.
    let first = slow.first_mut().unwrap();
    let closed = answer_within(first, Duration::from_secs(10)).await;
    assert!(
        closed
            .as_deref()
            .is_some_and(|s| s.is_empty() || s.starts_with("HTTP/1.1 408")),
        "{closed:?}"
    );
    relay.stop().await;
}
