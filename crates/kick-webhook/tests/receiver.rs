//! The receiver's answers, as Kick and a client meet them over HTTP: accepted and dispatched
//! once, duplicates, each bad request named, the body limit, and a key that rotates.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Json, Router, routing::get};
use common::{OTHER_PUBLIC_PEM, PUBLIC_PEM, serve, signed, time_ago, time_now};
use kick_dispatch::{Dispatcher, events};
use kick_verify::PublicKey;
use kick_webhook::{KeyStore, Receiver};

/// A receiver with the test key, counting the chat messages its listener gets.
/// A receiver made by `receiver` on its own server; its URL and what it dispatched, which
/// [`Dispatched::all`] reads once every dispatch has run.
async fn receiver(receiver: impl FnOnce(Dispatcher) -> Receiver) -> (String, Dispatched) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let bus = Dispatcher::new();
    let seen = Arc::clone(&got);
    bus.listen(events::ChatMessageSent, move |chat| {
        seen.lock().unwrap().push(chat.content.clone());
    });
    let url = serve(receiver(bus.clone()).router("/webhooks/kick")).await;
    (url, Dispatched { got, bus })
}

/// The chat texts a receiver dispatched.
struct Dispatched {
    got: Arc<Mutex<Vec<String>>>,
    bus: Dispatcher,
}

impl Dispatched {
    /// Every text dispatched, once every dispatch the receiver started has run (the bus
    /// closes, so call it last): "exactly once" is then a fact, not a moment's view.
    async fn all(self) -> Vec<String> {
        let report = self.bus.shutdown(Duration::from_secs(5)).await;
        assert!(report.drained, "every dispatch ran to its end");
        self.got.lock().unwrap().clone()
    }
}

fn test_keys() -> KeyStore {
    KeyStore::new(PublicKey::from_pem(PUBLIC_PEM).unwrap(), None)
}

fn chat_body(text: &str) -> Vec<u8> {
    serde_json::json!({
        "message_id": "c1",
        "broadcaster": { "user_id": 1, "username": "s", "is_verified": true, "profile_picture": "", "channel_slug": "s" },
        "sender": { "user_id": 2, "username": "v", "is_verified": false, "profile_picture": "", "channel_slug": "v" },
        "content": text, "emotes": null
    })
    .to_string()
    .into_bytes()
}

async fn post(url: &str, headers: &[(&'static str, String)], body: Vec<u8>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/webhooks/kick"))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_delivery_is_dispatched_once_and_every_bad_request_is_named() {
    let (url, got) =
        receiver(|bus| Receiver::with_keys(bus, test_keys()).max_body_bytes(4096)).await;
    let now = time_now();
    let body = chat_body("hello");
    let good = signed(
        "01JRECV0000000000000000001",
        &now,
        "chat.message.sent",
        &body,
    );
    assert_eq!(
        post(&url, &good, body.clone()).await,
        (200, "accepted".into())
    );
    assert_eq!(
        post(&url, &good, body.clone()).await,
        (200, "duplicate".into())
    );

    let mut tampered = body.clone();
    tampered[20] ^= 1;
    assert_eq!(
        post(&url, &good, tampered).await,
        (400, "bad signature".into())
    );
    let mut missing = good.clone();
    missing.retain(|(n, _)| *n != "Kick-Event-Type");
    assert_eq!(
        post(&url, &missing, body.clone()).await,
        (400, "missing header Kick-Event-Type".into())
    );
    let mut malformed = good.clone();
    malformed[2].1 = "AAAA".into();
    let (status, text) = post(&url, &malformed, body.clone()).await;
    assert_eq!(status, 400);
    assert!(text.contains("malformed Kick-Event-Signature"), "{text}");
    let stale = signed(
        "01JRECV0000000000000000002",
        "2020-01-01T00:00:00Z",
        "chat.message.sent",
        &body,
    );
    let (status, text) = post(&url, &stale, body.clone()).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("Kick-Event-Message-Timestamp:"), "{text}");
    let big = vec![b' '; 5000];
    let headers = signed(
        "01JRECV0000000000000000003",
        &now,
        "chat.message.sent",
        &big,
    );
    assert_eq!(post(&url, &headers, big).await.0, 413);
    let wrong_method = reqwest::get(format!("{url}/webhooks/kick")).await.unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);

    // A signed body that does not fit its schema is still accepted (catch-all listeners get it).
    let odd = br#"{"content": 5}"#.to_vec();
    let headers = signed(
        "01JRECV0000000000000000004",
        &now,
        "chat.message.sent",
        &odd,
    );
    assert_eq!(post(&url, &headers, odd).await, (200, "accepted".into()));

    assert_eq!(got.all().await, ["hello"], "dispatched exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_and_the_duplicate_check_can_be_turned_off() {
    let (url, got) = receiver(|bus| {
        Receiver::with_keys(bus, test_keys())
            .timestamp_tolerance(None)
            .recent_ids(0)
    })
    .await;
    let body = chat_body("old");
    let old = signed(
        "01JRECV0000000000000000010",
        "2020-01-01T00:00:00Z",
        "chat.message.sent",
        &body,
    );
    assert_eq!(
        post(&url, &old, body.clone()).await,
        (200, "accepted".into())
    );
    assert_eq!(post(&url, &old, body).await, (200, "accepted".into()));
    assert_eq!(got.all().await.len(), 2);
}

/// Kick delivers late: by default a delivery half an hour old is taken (and its repeat is a
/// duplicate), one past the window is refused with how far out it is, and once the memory of
/// ids is full, a delivery as old as a forgotten id is refused rather than risk a repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_deliveries_are_taken_as_far_as_the_memory_of_ids_reaches() {
    let (url, got) = receiver(|bus| Receiver::with_keys(bus, test_keys()).recent_ids(2)).await;
    let post_signed_at = |id: &'static str, timestamp: String, text: &'static str| {
        let url = url.clone();
        async move {
            let body = chat_body(text);
            let headers = signed(id, &timestamp, "chat.message.sent", &body);
            post(&url, &headers, body).await
        }
    };
    let post_at = |id: &'static str, secs_ago: u64, text: &'static str| {
        post_signed_at(id, time_ago(secs_ago), text)
    };
    // Kick's retries of a delivery carry its timestamp unchanged.
    let half_an_hour_ago = time_ago(1800);
    let late = || {
        post_signed_at(
            "01JLATE00000000000000000001",
            half_an_hour_ago.clone(),
            "half an hour late",
        )
    };
    assert_eq!(late().await, (200, "accepted".into()));
    assert_eq!(late().await, (200, "duplicate".into()));
    let (status, text) = post_at("01JLATE00000000000000000002", 3700, "too late").await;
    assert_eq!(status, 400);
    // The check runs a moment after signing: 100 s out, or 101 s when a second ticked between.
    assert!(
        text.contains("100 s more than the 3600 s allowed")
            || text.contains("101 s more than the 3600 s allowed"),
        "{text}"
    );
    // Two newer ids push the first out of the memory (it holds two): a repeat of it, or any
    // delivery as old, cannot be told apart from a new one any more.
    for (id, text) in [
        ("01JLATE00000000000000000003", "b"),
        ("01JLATE00000000000000000004", "c"),
    ] {
        assert_eq!(post_at(id, 60, text).await, (200, "accepted".into()));
    }
    let (status, text) = late().await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("raise recent_ids"), "{text}");
    let mut dispatched = got.all().await;
    dispatched.sort();
    assert_eq!(
        dispatched,
        ["b", "c", "half an hour late"],
        "each taken delivery dispatched once (listeners run on their own tasks, in any order)"
    );
}

/// A Drops claim at the same path: told apart by its headers, verified, dispatched to
/// catch-all listeners once; a repeat of its claim id (under a new message id) is a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drops_claim_is_taken_once_per_claim_id() {
    let claims = Arc::new(Mutex::new(Vec::new()));
    let bus = Dispatcher::new();
    let seen = Arc::clone(&claims);
    bus.listen(events::Any, move |delivery| {
        if kick_models::drops::is_drop_claim(&delivery.headers) {
            let claim: kick_models::drops::DropClaimed =
                serde_json::from_slice(&delivery.body).unwrap();
            seen.lock().unwrap().push(claim.claim_id);
        }
    });
    let url = serve(Receiver::with_keys(bus, test_keys()).router("/webhooks/kick")).await;
    let body = br#"{"claim_id":"01JZ8N1V3YQJ8ZC1ZSNH2FE5KX","user_id":1,"campaign_id":"c","reward_id":"r"}"#;
    let post_claim = |id: &'static str| {
        let url = url.clone();
        async move {
            let now = time_now();
            let headers = vec![
                ("Kick-Event-Message-ID", id.to_owned()),
                ("Kick-Event-Timestamp", now.clone()),
                ("Kick-Event-Signature", common::sign(id, &now, body)),
            ];
            post(&url, &headers, body.to_vec()).await
        }
    };
    assert_eq!(post_claim("01JDROPS1").await, (200, "accepted".into()));
    assert_eq!(post_claim("01JDROPS1").await, (200, "duplicate".into()));
    assert_eq!(post_claim("01JDROPS2").await, (200, "duplicate".into()));
    for _ in 0..200 {
        if !claims.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(*claims.lock().unwrap(), ["01JZ8N1V3YQJ8ZC1ZSNH2FE5KX"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_fetched_once_and_then_verifies() {
    // The receiver starts with another key; Kick's API serves the one deliveries are signed with.
    let fetches = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&fetches);
    let kick = serve(Router::new().route(
        "/public/v1/public-key",
        get(move || {
            *counter.lock().unwrap() += 1;
            async {
                Json(serde_json::json!({ "data": { "public_key": PUBLIC_PEM }, "message": "OK" }))
            }
        }),
    ))
    .await;
    let client = kick_api::KickClient::builder()
        .api_base_url(&kick)
        .build()
        .unwrap();
    let keys = KeyStore::new(PublicKey::from_pem(OTHER_PUBLIC_PEM).unwrap(), Some(client));
    let (url, got) = receiver(|bus| Receiver::with_keys(bus, keys)).await;
    let now = time_now();
    for (i, text) in ["first", "second"].iter().enumerate() {
        let body = chat_body(text);
        let headers = signed(
            &format!("01JROTATE00000000000000000{i}"),
            &now,
            "chat.message.sent",
            &body,
        );
        assert_eq!(
            post(&url, &headers, body).await,
            (200, "accepted".into()),
            "{text}"
        );
    }
    assert_eq!(
        *fetches.lock().unwrap(),
        1,
        "fetched once, then the new key is in use"
    );
    assert_eq!(got.all().await.len(), 2);
}
