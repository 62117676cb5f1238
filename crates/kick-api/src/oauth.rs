//! OAuth 2.1 on `id.kick.com`: app tokens, the authorisation-code flow with PKCE, refresh,
//! revoke, introspect.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use kick_models::api::{Introspection, TokenResponse};
use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::{
    ApiError, ApiErrorKind, KickClient, Scope, Secret, UserToken,
    transport::{Auth, Body, Call, Host},
};

/// Which token [`KickClient::revoke`] is given (Kick's `token_hint_type`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum TokenHint {
    /// An access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
}

/// A prepared authorisation: send the user to `url`, keep `state` and `code_verifier` until
/// Kick redirects back with `code` and `state`.
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    /// Where to send the user's browser.
    pub url: String,
    /// Compare with the `state` Kick sends back (guards against CSRF).
    pub state: String,
    /// The PKCE verifier for [`KickClient::exchange_code`].
    pub code_verifier: Secret,
}

fn random_urlsafe(bytes: usize) -> Result<String, ApiError> {
    let mut buffer = vec![0_u8; bytes];
    getrandom::fill(&mut buffer).map_err(|err| {
        ApiError::new(ApiErrorKind::Config(format!("no system randomness: {err}")))
    })?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

fn oauth_call(path: &str, form: Vec<(&'static str, String)>) -> Call<'static> {
    let mut call = Call::new(Method::POST, path, Auth::None);
    call.host = Host::OAuth;
    call.body = Body::Form(form);
    call
}

impl KickClient {
    /// Builds the `GET /oauth/authorize` URL for `scopes` with a fresh PKCE verifier (S256) and
    /// `state`.
    ///
    /// Scope: the scopes you ask for ([`Scope::ALL`] lists Kick's eleven).
    ///
    /// # Errors
    /// [`ApiErrorKind::Config`] without a client id.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
        scopes: &[Scope],
    ) -> Result<AuthorizationRequest, ApiError> {
        let client_id = self.inner.client_id.as_deref().ok_or_else(|| {
            ApiError::new(ApiErrorKind::Config(
                "authorize_url needs the client id".into(),
            ))
        })?;
        let verifier = random_urlsafe(48)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = random_urlsafe(24)?;
        let mut url = self.inner.oauth_base.clone();
        url.set_path("/oauth/authorize");
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", &state)
            .append_pair(
                "scope",
                &scopes
                    .iter()
                    .map(Scope::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Ok(AuthorizationRequest {
            url: url.into(),
            state,
            code_verifier: Secret::new(verifier),
        })
    }

    /// Exchanges the `code` from Kick's redirect for the user's tokens.
    ///
    /// Scope: none: the app's client id and secret.
    ///
    /// # Errors
    /// [`ApiError`] from Kick (e.g. a used or expired code), or missing credentials.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &Secret,
    ) -> Result<UserToken, ApiError> {
        let (id, secret) = self.credentials()?;
        let call = oauth_call(
            "/oauth/token",
            vec![
                ("grant_type", "authorization_code".into()),
                ("client_id", id.into()),
                ("client_secret", secret.expose().into()),
                ("redirect_uri", redirect_uri.into()),
                ("code_verifier", code_verifier.expose().into()),
                ("code", code.into()),
            ],
        );
        let response: TokenResponse = self.bare(call).await?;
        Ok(UserToken::from_response(response, self.now()))
    }

    /// A new user token from a refresh token (keep the newest refresh token it returns).
    ///
    /// Scope: none: the app's client id and secret.
    ///
    /// # Errors
    /// [`ApiError`] from Kick (e.g. a revoked refresh token), or missing credentials.
    pub async fn refresh_user_token(&self, refresh_token: &Secret) -> Result<UserToken, ApiError> {
        let (id, secret) = self.credentials()?;
        let call = oauth_call(
            "/oauth/token",
            vec![
                ("grant_type", "refresh_token".into()),
                ("client_id", id.into()),
                ("client_secret", secret.expose().into()),
                ("refresh_token", refresh_token.expose().into()),
            ],
        );
        let response: TokenResponse = self.bare(call).await?;
        Ok(UserToken::from_response(response, self.now()))
    }

    /// The app access token (client credentials), from the cache when still fresh.
    ///
    /// Scope: none: the app's client id and secret.
    ///
    /// # Errors
    /// [`ApiError`] from Kick, or missing credentials.
    pub async fn app_access_token(&self) -> Result<Secret, ApiError> {
        self.inner.app_token.get(self, false).await
    }

    pub(crate) async fn fetch_app_token(&self) -> Result<TokenResponse, ApiError> {
        let (id, secret) = self.credentials()?;
        let call = oauth_call(
            "/oauth/token",
            vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", id.into()),
                ("client_secret", secret.expose().into()),
            ],
        );
        self.bare(call).await
    }

    /// Revokes a token (`POST /oauth/revoke?token=…&token_hint_type=…`, as Kick documents).
    ///
    /// Scope: none.
    ///
    /// # Errors
    /// [`ApiError`] from Kick.
    pub async fn revoke(&self, token: &Secret, hint: Option<TokenHint>) -> Result<(), ApiError> {
        let mut call = oauth_call("/oauth/revoke", Vec::new());
        call.body = Body::Form(Vec::new());
        call = call.query("token", token.expose());
        if let Some(hint) = hint {
            call = call.query(
                "token_hint_type",
                match hint {
                    TokenHint::AccessToken => "access_token",
                    TokenHint::RefreshToken => "refresh_token",
                },
            );
        }
        self.empty(call).await
    }

    /// What Kick knows about `token` (`POST /oauth/token/introspect`).
    ///
    /// Scope: none (the token itself).
    ///
    /// # Errors
    /// [`ApiError`] from Kick.
    pub async fn introspect(&self, token: &Secret) -> Result<Introspection, ApiError> {
        let mut call = Call::new(Method::POST, "/oauth/token/introspect", Auth::Bearer(token));
        call.host = Host::OAuth;
        call.idempotent = true;
        self.data(call).await
    }
}
