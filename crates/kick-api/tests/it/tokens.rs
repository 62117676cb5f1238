//! App token caching, early refresh, single flight, 401 refresh-and-retry, user sessions.

use std::{sync::Arc, time::Duration};

use kick_api::{ApiErrorKind, MemoryTokenStore, Secret, TokenStore, UserSession, UserToken};
use serde_json::json;

use crate::fake::{FakeKick, answer, fixed_now, ok, token, tokens_and};

#[tokio::test]
async fn the_app_token_is_fetched_once_and_cached() {
    let kick = FakeKick::start(tokens_and(json!([]))).await;
    let client = kick.client();
    for _ in 0..3 {
        client.app().subscriptions(None).await.unwrap();
    }
    let token_calls = kick.seen_at("/oauth/token");
    assert_eq!(token_calls.len(), 1);
    assert_eq!(
        token_calls[0].form(),
        [
            ("grant_type", "client_credentials"),
            ("client_id", "client-id"),
            ("client_secret", "client-secret")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(
        token_calls[0].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn a_token_with_less_than_a_minute_left_is_refreshed_before_use() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            token(n, 60)
        } else {
            ok(json!([]))
        }
    })
    .await;
    let client = kick.client();
    client.app().subscriptions(None).await.unwrap();
    client.app().subscriptions(None).await.unwrap();
    let auths: Vec<_> = kick
        .seen_at("/public/v1/events/subscriptions")
        .into_iter()
        .map(|s| s.auth.unwrap())
        .collect();
    assert_eq!(auths, ["Bearer token-1", "Bearer token-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_callers_share_one_token_fetch() {
    let kick = FakeKick::start(|seen, n| {
        if seen.path == "/oauth/token" {
            let mut reply = token(n, 3600);
            reply.delay = Duration::from_millis(200);
            reply
        } else {
            ok(json!([]))
        }
    })
    .await;
    let client = kick.client();
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.app().subscriptions(None).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(kick.seen_at("/oauth/token").len(), 1);
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 50);
}

#[tokio::test]
async fn a_401_gets_one_fresh_token_and_one_retry() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        _ if seen.auth.as_deref() == Some("Bearer token-1") => {
            answer(401, r#"{"data":{},"message":"Unauthorized"}"#)
        }
        _ => ok(json!([])),
    })
    .await;
    kick.client().app().subscriptions(None).await.unwrap();
    assert_eq!(kick.seen_at("/oauth/token").len(), 2);
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 2);
}

#[tokio::test]
async fn a_second_401_is_final_no_loop() {
    let kick = FakeKick::start(|seen, n| match seen.path.as_str() {
        "/oauth/token" => token(n, 3600),
        _ => answer(401, r#"{"data":{},"message":"Unauthorized"}"#),
    })
    .await;
    let err = kick.client().app().subscriptions(None).await.unwrap_err();
    assert_eq!(
        err.kind(),
        &ApiErrorKind::Unauthorized {
            message: "Unauthorized".into()
        }
    );
    assert_eq!(kick.seen_at("/public/v1/events/subscriptions").len(), 2);
    assert_eq!(kick.seen_at("/oauth/token").len(), 2);
}

#[tokio::test]
async fn missing_credentials_are_a_config_error_before_any_request() {
    let kick = FakeKick::start(tokens_and(json!([]))).await;
    let client = kick_api::KickClient::builder()
        .api_base_url(format!("http://{}", kick.addr))
        .build()
        .unwrap();
    let err = client.app().subscriptions(None).await.unwrap_err();
    assert!(matches!(err.kind(), ApiErrorKind::Config(_)), "{err}");
    assert!(
        err.to_string().contains("client id and client secret"),
        "{err}"
    );
    assert!(kick.seen().is_empty());
}

#[tokio::test]
async fn a_user_session_refreshes_an_expired_token_and_saves_the_new_one() {
    let kick = FakeKick::start(|seen, _| match seen.path.as_str() {
        "/oauth/token" => answer(
            200,
            json!({ "access_token": "user-2", "token_type": "Bearer", "refresh_token": "refresh-2",
                                              "expires_in": "7200", "scope": "user:read" })
            .to_string(),
        ),
        _ => ok(json!([{ "user_id": 1, "name": "me" }])),
    })
    .await;
    let store = Arc::new(MemoryTokenStore::new(UserToken {
        access_token: Secret::new("user-1"),
        refresh_token: Some(Secret::new("refresh-1")),
        expires_at: fixed_now() - Duration::from_secs(1),
        scope: None,
    }));
    let session = UserSession::new(store.clone());
    let client = kick.client();
    assert_eq!(
        client.user(&session).users(&[]).await.unwrap()[0].name,
        "me"
    );
    let refresh = &kick.seen_at("/oauth/token")[0];
    assert!(
        refresh
            .form()
            .contains(&("refresh_token".into(), "refresh-1".into()))
    );
    assert!(
        refresh
            .form()
            .contains(&("grant_type".into(), "refresh_token".into()))
    );
    assert_eq!(
        kick.seen_at("/public/v1/users")[0].auth.as_deref(),
        Some("Bearer user-2")
    );
    let saved = store.load().unwrap().unwrap();
    assert_eq!(saved.access_token.expose(), "user-2");
    assert_eq!(saved.refresh_token.unwrap().expose(), "refresh-2");
    assert_eq!(saved.expires_at, fixed_now() + Duration::from_hours(2));
}

#[test]
fn secrets_never_print() {
    let client = kick_api::KickClient::builder()
        .credentials("id", "very-secret")
        .build()
        .unwrap();
    let debug = format!("{client:?}");
    assert!(
        !debug.contains("very-secret") && debug.contains("<redacted>"),
        "{debug}"
    );
    assert_eq!(format!("{}", Secret::new("x")), "<redacted>");
}
