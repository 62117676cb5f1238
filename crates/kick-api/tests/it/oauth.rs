//! OAuth: authorisation URL with PKCE, code exchange, revoke, introspect.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use kick_api::{Secret, TokenHint};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::fake::{FakeKick, answer, fixed_now};

#[tokio::test]
async fn the_authorization_url_carries_pkce_and_state() {
    let kick = FakeKick::start(|_, _| answer(404, "")).await;
    let client = kick.client();
    let request = client
        .authorize_url(
            "http://localhost:8080/callback",
            &[kick_api::Scope::UserRead, kick_api::Scope::EventsSubscribe],
        )
        .unwrap();
    let url = reqwest::Url::parse(&request.url).unwrap();
    assert_eq!(url.path(), "/oauth/authorize");
    let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs["client_id"], "client-id");
    assert_eq!(pairs["response_type"], "code");
    assert_eq!(pairs["redirect_uri"], "http://localhost:8080/callback");
    assert_eq!(pairs["scope"], "user:read events:subscribe");
    assert_eq!(pairs["code_challenge_method"], "S256");
    assert_eq!(pairs["state"], request.state);
    let verifier = request.code_verifier.expose();
    assert!((43..=128).contains(&verifier.len()), "{}", verifier.len());
    assert_eq!(
        pairs["code_challenge"],
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    );
    let again = client
        .authorize_url("http://localhost:8080/callback", &[])
        .unwrap();
    assert_ne!(again.state, request.state, "state is random");
}

#[tokio::test]
async fn code_exchange_revoke_and_introspect() {
    let kick = FakeKick::start(|seen, _| match seen.path.as_str() {
        "/oauth/token" => answer(200, json!({ "access_token": "a", "token_type": "Bearer", "refresh_token": "r", "expires_in": 7200, "scope": "user:read" }).to_string()),
        "/oauth/revoke" => answer(200, "OK"),
        "/oauth/token/introspect" => answer(200, json!({ "data": { "active": true, "client_id": "client-id", "token_type": "user", "scope": "user:read", "exp": 1_700_007_200 }, "message": "OK" }).to_string()),
        _ => answer(404, ""),
    })
    .await;
    let client = kick.client();
    let token = client
        .exchange_code("the-code", "http://localhost/cb", &Secret::new("verifier"))
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), "a");
    assert_eq!(
        token.scopes(),
        [kick_api::Scope::UserRead],
        "granted scopes parsed"
    );
    assert_eq!(
        token.expires_at,
        fixed_now() + std::time::Duration::from_hours(2)
    );
    let form = kick.seen_at("/oauth/token")[0].form();
    for field in [
        ("grant_type", "authorization_code"),
        ("client_id", "client-id"),
        ("client_secret", "client-secret"),
        ("redirect_uri", "http://localhost/cb"),
        ("code_verifier", "verifier"),
        ("code", "the-code"),
    ] {
        assert!(
            form.contains(&(field.0.into(), field.1.into())),
            "{field:?} missing from {form:?}"
        );
    }

    client
        .revoke(&token.access_token, Some(TokenHint::AccessToken))
        .await
        .unwrap();
    let revoke = &kick.seen_at("/oauth/revoke")[0];
    assert_eq!(
        revoke.query,
        [
            ("token".into(), "a".into()),
            ("token_hint_type".into(), "access_token".into())
        ]
    );
    assert_eq!(revoke.body, "");
    assert_eq!(
        revoke.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );

    let info = client.introspect(&token.access_token).await.unwrap();
    assert!(info.active);
    assert_eq!(
        kick.seen_at("/oauth/token/introspect")[0].auth.as_deref(),
        Some("Bearer a")
    );
}
