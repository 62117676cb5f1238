//! Sending one call: auth, retries, the `{data, message}` envelope and error mapping.

use reqwest::{
    Method, StatusCode,
    header::{AUTHORIZATION, HeaderMap},
};
use serde::{Deserialize, de::DeserializeOwned};

use crate::{ApiError, ApiErrorKind, KickClient, Secret, UserSession, retry::retry_after};

/// Which server a call goes to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Host {
    Api,
    OAuth,
}

/// Whose token a call carries.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    None,
    App,
    User(&'a UserSession),
    Bearer(&'a Secret),
}

/// A call's body.
pub(crate) enum Body {
    Empty,
    Json(Vec<u8>),
    Form(Vec<(&'static str, String)>),
}

/// One call to Kick.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) host: Host,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Body,
    pub(crate) auth: Auth<'a>,
    /// Safe to send twice (5xx and timeouts are retried only then).
    pub(crate) idempotent: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: impl Into<String>, auth: Auth<'a>) -> Self {
        let idempotent = method != Method::POST;
        Self {
            method,
            host: Host::Api,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
            auth,
            idempotent,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub(crate) fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self, ApiError> {
        self.body = Body::Json(serde_json::to_vec(body).map_err(|err| {
            ApiError::with_source(ApiErrorKind::Config("request body".into()), err)
        })?);
        Ok(self)
    }
}

/// Kick's success envelope.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// A page of a v2 list.
#[derive(Deserialize)]
struct PagedEnvelope<T> {
    data: Vec<T>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next_cursor: Option<String>,
}

/// Kick's error bodies: `{data, message}` on the API, `{error, error_description}` on OAuth.
#[derive(Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl KickClient {
    /// The `data` of an enveloped answer.
    pub(crate) async fn data<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ApiError> {
        let body = self.execute(&call).await?;
        serde_json::from_slice::<Envelope<T>>(&body)
            .map(|envelope| envelope.data)
            .map_err(|err| ApiError::decode(&body, err))
    }

    /// One page of a v2 list and the cursor of the next (`None` at the end).
    pub(crate) async fn page<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<(Vec<T>, Option<String>), ApiError> {
        let body = self.execute(&call).await?;
        let page: PagedEnvelope<T> =
            serde_json::from_slice(&body).map_err(|err| ApiError::decode(&body, err))?;
        let next = page
            .pagination
            .and_then(|p| p.next_cursor)
            .filter(|cursor| !cursor.is_empty());
        Ok((page.data, next))
    }

    /// A call whose answer carries nothing needed (204, or an `OK`).
    pub(crate) async fn empty(&self, call: Call<'_>) -> Result<(), ApiError> {
        self.execute(&call).await.map(drop)
    }

    /// An answer without envelope (OAuth).
    pub(crate) async fn bare<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ApiError> {
        let body = self.execute(&call).await?;
        serde_json::from_slice(&body).map_err(|err| ApiError::decode(&body, err))
    }

    /// Sends `call` until it succeeds or the policy gives up; returns the 2xx body.
    async fn execute(&self, call: &Call<'_>) -> Result<Vec<u8>, ApiError> {
        let policy = self.inner.retry;
        let mut retries = 0;
        let mut refreshed = false;
        loop {
            let token = self.token_for(call.auth, false).await?;
            let (error, asked) = match self.send_once(call, token.as_ref()).await {
                Ok((status, _, body)) if status.is_success() => return Ok(body),
                Ok((StatusCode::UNAUTHORIZED, _, _)) if !refreshed && token.is_some() => {
                    // One fresh token, then one more try; a second 401 is final.
                    refreshed = true;
                    match (call.auth, &token) {
                        (Auth::App, Some(used)) => self.inner.app_token.invalidate(used).await,
                        _ => drop(self.token_for(call.auth, true).await?),
                    }
                    continue;
                }
                Ok((status, headers, body)) => {
                    let asked = retry_after(&headers, self.now());
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && call.idempotent);
                    let error = status_error(status, &body, asked);
                    if !retryable {
                        return Err(error);
                    }
                    (error, asked)
                }
                Err((error, maybe_sent)) => {
                    if maybe_sent && !call.idempotent {
                        return Err(error);
                    }
                    (error, None)
                }
            };
            if retries >= policy.max_retries || asked.is_some_and(|wait| wait > policy.max_delay) {
                return Err(error);
            }
            let wait = policy.backoff(retries).max(asked.unwrap_or_default());
            tracing::debug!(path = %call.path, retry = retries + 1, ?wait, error = %error, "retrying Kick call");
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    async fn token_for(&self, auth: Auth<'_>, force: bool) -> Result<Option<Secret>, ApiError> {
        Ok(match auth {
            Auth::None => None,
            Auth::App => Some(self.inner.app_token.get(self, force).await?),
            Auth::User(session) => Some(session.access_token(self, force).await?),
            Auth::Bearer(token) => Some(token.clone()),
        })
    }

    /// One HTTP exchange. An error says whether the request may have reached Kick.
    async fn send_once(
        &self,
        call: &Call<'_>,
        token: Option<&Secret>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), (ApiError, bool)> {
        let base = match call.host {
            Host::Api => &self.inner.api_base,
            Host::OAuth => &self.inner.oauth_base,
        };
        let mut url = base.clone();
        url.set_path(&call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut request = self.inner.http.request(call.method.clone(), url);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        request = match &call.body {
            Body::Empty => request,
            Body::Json(bytes) => request
                .header("content-type", "application/json")
                .body(bytes.clone()),
            Body::Form(fields) => request.form(fields),
        };
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?.to_vec();
        Ok((status, headers, body))
    }
}

/// A reqwest failure, without the URL (it may hold query secrets such as a revoked token).
fn transport_error(err: reqwest::Error) -> (ApiError, bool) {
    let maybe_sent = !err.is_connect();
    let kind = if err.is_timeout() {
        ApiErrorKind::Timeout
    } else {
        ApiErrorKind::Transport
    };
    (ApiError::with_source(kind, err.without_url()), maybe_sent)
}

/// Maps a non-2xx answer to an error, reading Kick's envelope whatever its `data` type.
fn status_error(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<std::time::Duration>,
) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = parsed
        .message
        .or(parsed.error_description)
        .or(parsed.error)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(200)
                .collect::<String>();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                text
            }
        });
    match status {
        StatusCode::TOO_MANY_REQUESTS => ApiError::new(ApiErrorKind::RateLimited { retry_after }),
        StatusCode::UNAUTHORIZED => ApiError::new(ApiErrorKind::Unauthorized { message }),
        _ => ApiError::new(ApiErrorKind::Status {
            status: status.as_u16(),
            message,
            data: parsed.data,
        }),
    }
}
