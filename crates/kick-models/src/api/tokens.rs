//! OAuth token responses (`id.kick.com`, no envelope).

use serde::{Deserialize, Deserializer, Serialize};

/// `POST /oauth/token` answer for every grant.
#[derive(Clone, Deserialize, Eq, PartialEq, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: String,
    /// Only for user tokens.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub refresh_token: Option<String>,
    /// Lifetime in seconds (an integer, or a numeric string).
    #[serde(deserialize_with = "int_or_string")]
    pub expires_in: u64,
    /// Granted scopes, space-separated (user tokens).
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// `POST /oauth/token/introspect` answer.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct Introspection {
    /// Whether the token is valid.
    pub active: bool,
    /// The app the token belongs to.
    #[serde(default)]
    pub client_id: String,
    /// `app` or `user`.
    #[serde(default)]
    pub token_type: String,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// Expiry, Unix seconds.
    #[serde(default)]
    pub exp: i64,
}

fn int_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(u64),
        Text(String),
    }
    match Number::deserialize(deserializer)? {
        Number::Int(n) => Ok(n),
        Number::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("expires_in {text:?} is not a number"))),
    }
}
