//! Every error envelope shape Kick sends (SPEC.md §5.0), and undecodable answers.

use kick_api::ApiErrorKind;
use serde_json::{Value, json};

use crate::fake::{FakeKick, answer, token};

async fn error_for(status: u16, body: &'static str) -> kick_api::ApiError {
    let kick = FakeKick::start(move |seen, n| {
        if seen.path == "/oauth/token" {
            token(n, 3600)
        } else {
            answer(status, body)
        }
    })
    .await;
    let client = kick
        .builder()
        .retry(kick_api::RetryPolicy::none())
        .build()
        .unwrap();
    client.app().subscriptions(None).await.unwrap_err()
}

#[tokio::test]
async fn data_as_object_null_or_string() {
    let cases = [
        (
            400,
            r#"{"data":{},"message":"Invalid request"}"#,
            "Invalid request",
            json!({}),
        ),
        (
            400,
            r#"{"data":"event subscription limit reached","message":"Bad request"}"#,
            "Bad request",
            json!("event subscription limit reached"),
        ),
        (
            500,
            r#"{"data":null,"message":"Internal server error"}"#,
            "Internal server error",
            Value::Null,
        ),
        (
            403,
            r#"{"data":{"reason":"Blocked by security policy"},"message":"Forbidden"}"#,
            "Forbidden",
            json!({ "reason": "Blocked by security policy" }),
        ),
    ];
    for (status, body, message, data) in cases {
        let err = error_for(status, body).await;
        assert_eq!(
            err.kind(),
            &ApiErrorKind::Status {
                status,
                message: message.into(),
                data: data.clone()
            },
            "{body}"
        );
    }
    let err = error_for(
        400,
        r#"{"data":"event subscription limit reached","message":"Bad request"}"#,
    )
    .await;
    assert_eq!(
        err.to_string(),
        "Kick answered 400: Bad request (event subscription limit reached)"
    );
}

#[tokio::test]
async fn oauth_errors_and_plain_text() {
    let err = error_for(400, r#"{"error":"Invalid request"}"#).await;
    assert!(
        matches!(err.kind(), ApiErrorKind::Status { status: 400, message, .. } if message == "Invalid request"),
        "{err:?}"
    );
    let err = error_for(502, "<html>bad gateway</html>").await;
    assert!(
        matches!(err.kind(), ApiErrorKind::Status { status: 502, message, data: Value::Null } if message == "<html>bad gateway</html>"),
        "{err:?}"
    );
    let err = error_for(404, "").await;
    assert!(
        matches!(err.kind(), ApiErrorKind::Status { status: 404, message, .. } if message == "Not Found"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_undecodable_answer_keeps_a_truncated_body() {
    let long = Box::leak(format!("{{\"data\": \"{}", "x".repeat(2000)).into_boxed_str());
    let err = error_for(200, long).await;
    let ApiErrorKind::Decode { body } = err.kind() else {
        panic!("{err:?}")
    };
    assert_eq!(body.chars().count(), 512);
}
