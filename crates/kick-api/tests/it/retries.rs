//! 429 with both Retry-After forms, 5xx retried then success, retries exhausted or off.

use std::time::Duration;

use kick_api::{ApiErrorKind, RetryPolicy};
use kick_models::api::{ChatSend, ChatSenderType};
use serde_json::json;

use crate::fake::{FakeKick, answer, fixed_now, ok, token};

#[tokio::test]
async fn a_429_with_retry_after_seconds_is_waited_out_and_retried() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        _ if n == 1 => {
            let mut reply = answer(429, "");
            reply.headers.push(("retry-after", "1".into()));
            reply
        }
        _ => ok(json!([])),
    })
    .await;
    kick.client().app().subscriptions(None).await.unwrap();
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 2);
}

#[tokio::test]
async fn a_429_asking_for_longer_than_allowed_is_returned_with_its_wait() {
    for (value, expected) in [
        ("120".to_owned(), Duration::from_mins(2)),
        (
            httpdate::fmt_http_date(fixed_now() + Duration::from_secs(90)),
            Duration::from_secs(90),
        ),
    ] {
        let kick = FakeKick::start(move |seen, n| {
            if seen.path == "/oauth/token" {
                return token(n, 3600);
            }
            let mut reply = answer(429, "");
            reply.headers.push(("retry-after", value.clone()));
            reply
        })
        .await;
        let err = kick.client().app().subscriptions(None).await.unwrap_err();
        assert_eq!(
            err.kind(),
            &ApiErrorKind::RateLimited {
                retry_after: Some(expected)
            }
        );
        assert_eq!(
            kick.seen_at("/public/v1/events/subscriptions").len(),
            1,
            "no wait beyond max_delay"
        );
    }
}

#[tokio::test]
async fn a_5xx_is_retried_then_succeeds() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        _ if n < 3 => answer(503, "upstream down"),
        _ => ok(json!([])),
    })
    .await;
    kick.client().app().subscriptions(None).await.unwrap();
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            token(n, 3600)
        } else {
            answer(500, r#"{"data":null,"message":"Internal server error"}"#)
        }
    })
    .await;
    let err = kick.client().app().subscriptions(None).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        kick.seen_at("/public/v1/events/subscriptions").len(),
        3,
        "one try plus max_retries (2)"
    );
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            token(n, 3600)
        } else {
            answer(503, "")
        }
    })
    .await;
    let client = kick.builder().retry(RetryPolicy::none()).build().unwrap();
    assert!(client.app().subscriptions(None).await.is_err());
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 1);
}

#[tokio::test]
async fn a_chat_message_is_not_resent_after_a_5xx() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            token(n, 3600)
        } else {
            answer(500, "")
        }
    })
    .await;
    let message = ChatSend {
        sender: ChatSenderType::Bot,
        content: "once".into(),
        broadcaster_user_id: None,
        reply_to_message_id: None,
    };
    assert!(kick.client().app().send_chat(&message).await.is_err());
    assert_eq!(
        kick.seen_at("/public/v1/chat").len(),
        1,
        "it might have been posted: never twice"
    );
}

#[tokio::test]
async fn a_timeout_is_retried_and_reported() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            return token(n, 3600);
        }
        let mut reply = ok(json!([]));
        reply.delay = Duration::from_millis(400);
        reply
    })
    .await;
    let client = kick
        .builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = client.app().subscriptions(None).await.unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Timeout);
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 3);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = kick_api::KickClient::builder()
        .api_base_url(format!("http://{addr}"))
        .retry(RetryPolicy::new(
            1,
            Duration::from_millis(1),
            Duration::from_millis(10),
        ))
        .build()
        .unwrap();
    let err = client.public_key().await.unwrap_err();
    assert_eq!(err.kind(), &ApiErrorKind::Transport);
    // The cause is the source, said once in a chain, not repeated in the error's own text.
    let source = std::error::Error::source(&err)
        .expect("the transport error")
        .to_string();
    assert_eq!(err.to_string(), "could not reach Kick");
    assert!(!source.is_empty() && !err.to_string().contains(&source));
}
