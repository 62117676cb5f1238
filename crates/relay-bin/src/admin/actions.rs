//! The admin actions: log in and out, replay, enable, disable. The same effects as the CLI.
//! A browser's form is answered with a redirect back; a script gets JSON.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Admin,
    auth::{self, SESSION_COOKIE},
    page,
};
use crate::store::{OutputDisabled, Status};

/// The fields an action may carry (form or JSON body, all optional).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ActionForm {
    csrf: Option<String>,
    return_to: Option<String>,
    token: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// Reads a form (`application/x-www-form-urlencoded`) or JSON body; whether the answer goes
/// back to the page: a form posted without a bearer token (the page's own forms carry the
/// session and its CSRF token; a script with `Authorization: Bearer` gets JSON, whatever
/// the body's encoding).
fn read_form(headers: &HeaderMap, body: &Bytes) -> Result<(ActionForm, bool), String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        return serde_json::from_slice(body)
            .map(|form| (form, false))
            .map_err(|err| format!("the JSON body does not fit: {err}"));
    }
    if body.is_empty() {
        return Ok((ActionForm::default(), false));
    }
    let text = std::str::from_utf8(body).map_err(|_| "the form is not UTF-8".to_owned())?;
    let url = reqwest::Url::parse(&format!("http://form/?{text}"))
        .map_err(|err| format!("unreadable form: {err}"))?;
    let mut form = ActionForm::default();
    for (key, value) in url.query_pairs() {
        let value = Some(value.into_owned());
        match key.as_ref() {
            "csrf" => form.csrf = value,
            "return_to" => form.return_to = value,
            "token" => form.token = value,
            "status" => form.status = value,
            "since" => form.since = value.filter(|v| !v.trim().is_empty()),
            "until" => form.until = value.filter(|v| !v.trim().is_empty()),
            _ => {}
        }
    }
    Ok((
        form,
        content_type.starts_with("application/x-www-form-urlencoded")
            && !headers.contains_key(header::AUTHORIZATION),
    ))
}

/// The answer to an action: back to the page for a form, JSON otherwise.
fn done(form: &ActionForm, from_form: bool, status: StatusCode, message: &str) -> Response {
    if from_form {
        if !status.is_success() {
            return (
                status,
                Html(format!(
                    "<!doctype html><p>{}</p><p><a href=\"/\">Back</a></p>",
                    page::esc(message)
                )),
            )
                .into_response();
        }
        let back = form
            .return_to
            .as_deref()
            .filter(|p| local_path(p))
            .unwrap_or("/");
        return Redirect::to(back).into_response();
    }
    let key = if status.is_success() {
        "message"
    } else {
        "error"
    };
    (status, Json(serde_json::json!({ key: message }))).into_response()
}

/// Whether `path` is a path on this listener, never an open redirect: `/` followed by no `/`
/// or backslash (browsers read `//host` and `/\host` as another host), with no backslash or
/// control character anywhere (browsers drop tabs and newlines: `/%09/host` is `//host`).
fn local_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|rest| {
        !rest.starts_with(['/', '\\']) && !path.chars().any(|c| c == '\\' || c.is_control())
    })
}

/// Checks the body and the caller's right to act; the form, or the answer to give instead.
#[expect(
    clippy::result_large_err,
    reason = "the error is the answer itself, built once on the refusal path"
)]
fn allowed(
    admin: &Admin,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(ActionForm, bool), Response> {
    let (form, from_form) = read_form(headers, body)
        .map_err(|why| done(&ActionForm::default(), false, StatusCode::BAD_REQUEST, &why))?;
    if let Err(refusal) = admin.access.can_act(headers, form.csrf.as_deref()) {
        tracing::warn!(reason = %refusal, "admin action refused");
        return Err(done(
            &form,
            from_form,
            StatusCode::FORBIDDEN,
            &refusal.to_string(),
        ));
    }
    Ok((form, from_form))
}

/// [`allowed`], for an action on the output `name`, which must exist (404 otherwise).
#[expect(
    clippy::result_large_err,
    reason = "the error is the answer itself, built once on the refusal path"
)]
fn allowed_on_output(
    admin: &Admin,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(ActionForm, bool), Response> {
    let (form, from_form) = allowed(admin, headers, body)?;
    if !admin.relay.outputs.iter().any(|o| o.sink.name() == name) {
        return Err(done(
            &form,
            from_form,
            StatusCode::NOT_FOUND,
            &format!("no output named {name:?}"),
        ));
    }
    Ok((form, from_form))
}

/// `POST /login` with `token`: a session cookie (`HttpOnly`, `SameSite=Strict`).
pub(super) async fn login(State(admin): State<Admin>, headers: HeaderMap, body: Bytes) -> Response {
    if admin.relay.config.admin.token.is_none() {
        return (
            StatusCode::FORBIDDEN,
            Html(page::login(page::LoginNote::NoToken)),
        )
            .into_response();
    }
    let Ok((form, _)) = read_form(&headers, &body) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(page::login(page::LoginNote::Wrong)),
        )
            .into_response();
    };
    // A wrong token is logged, with the client's address, by the listener's guard.
    let Some((id, _)) = admin
        .access
        .login(form.token.as_deref().unwrap_or_default())
    else {
        return (
            StatusCode::FORBIDDEN,
            Html(page::login(page::LoginNote::Wrong)),
        )
            .into_response();
    };
    tracing::info!("admin login");
    let cookie = format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200{}",
        secure(&admin)
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// `; Secure` when the page is reached over HTTPS (`admin.secure_cookie`).
fn secure(admin: &Admin) -> &'static str {
    if admin.relay.config.admin.secure_cookie {
        "; Secure"
    } else {
        ""
    }
}

/// `POST /logout` with the session's CSRF token (another site cannot log the operator out).
pub(super) async fn logout(
    State(admin): State<Admin>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let csrf = read_form(&headers, &body)
        .ok()
        .and_then(|(form, _)| form.csrf);
    match admin.access.session(&headers) {
        Some(session) if csrf.is_some_and(|c| auth::same(&session.csrf, &c)) => {
            admin.access.logout(&headers);
        }
        Some(_) => {
            return (
                StatusCode::FORBIDDEN,
                Html("<!doctype html><p>Log out from the page's own button.</p><p><a href=\"/\">Back</a></p>"),
            )
                .into_response();
        }
        None => {}
    }
    let cookie = format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}",
        secure(&admin)
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// `POST /api/deliveries/{id}/replay`: a dead, skipped or expired delivery goes out again.
pub(super) async fn replay_one(
    State(admin): State<Admin>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, from_form) = match allowed(&admin, &headers, &body) {
        Ok(ok) => ok,
        Err(answer) => return answer,
    };
    match admin
        .relay
        .store
        .replay_one(id, admin.relay.clock.now_ms())
        .await
    {
        Ok(true) => {
            tracing::info!(delivery = id, "replayed from the admin page");
            wake_all(&admin);
            done(
                &form,
                from_form,
                StatusCode::OK,
                &format!("delivery {id} queued again"),
            )
        }
        Ok(false) => done(
            &form,
            from_form,
            StatusCode::CONFLICT,
            &format!("delivery {id} is not dead, skipped or expired"),
        ),
        Err(err) => done(&form, from_form, replay_status(&err), &format!("{err:#}")),
    }
}

/// `POST /api/outputs/{name}/replay` with `status` (default dead), `since`, `until` (RFC 3339).
pub(super) async fn replay_range(
    State(admin): State<Admin>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, from_form) = match allowed_on_output(&admin, &name, &headers, &body) {
        Ok(ok) => ok,
        Err(answer) => return answer,
    };
    let status: Status = match form.status.as_deref().unwrap_or("dead").parse() {
        Ok(status) => status,
        Err(err) => return done(&form, from_form, StatusCode::BAD_REQUEST, &err.to_string()),
    };
    let time = |value: &Option<String>| -> Result<Option<i64>, String> {
        value
            .as_deref()
            .map(|t| {
                kick_models::Timestamp::parse(t.trim())
                    .map(|ts| i64::try_from(ts.unix_nanos() / 1_000_000).unwrap_or(0))
                    .map_err(|_| {
                        format!("{t:?} is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)")
                    })
            })
            .transpose()
    };
    let (since, until) = match (time(&form.since), time(&form.until)) {
        (Ok(since), Ok(until)) => (since, until),
        (Err(why), _) | (_, Err(why)) => {
            return done(&form, from_form, StatusCode::BAD_REQUEST, &why);
        }
    };
    match admin
        .relay
        .store
        .replay(&name, status, since, until, admin.relay.clock.now_ms())
        .await
    {
        Ok(n) => {
            tracing::info!(output = %name, status = status.as_str(), n, "replayed from the admin page");
            wake_all(&admin);
            done(
                &form,
                from_form,
                StatusCode::OK,
                &format!("queued {n} {} deliveries of {name} again", status.as_str()),
            )
        }
        Err(err) => {
            let status = if err.downcast_ref::<OutputDisabled>().is_some() {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            done(&form, from_form, status, &format!("{err:#}"))
        }
    }
}

/// 409 for a replay onto a disabled output (enable it first), 503 for a store failure.
fn replay_status(err: &anyhow::Error) -> StatusCode {
    if err.downcast_ref::<OutputDisabled>().is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// `POST /api/outputs/{name}/enable` or `/disable`.
pub(super) async fn enable_or_disable(
    State(admin): State<Admin>,
    Path((name, change)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (form, from_form) = match allowed_on_output(&admin, &name, &headers, &body) {
        Ok(ok) => ok,
        Err(answer) => return answer,
    };
    let store = &admin.relay.store;
    let now = admin.relay.clock.now_ms();
    let result = match change.as_str() {
        "enable" => store.enable_output(&name, now).await,
        "disable" => {
            store
                .disable_output(&name, "disabled by operator (admin page)", now)
                .await
        }
        other => {
            return done(
                &form,
                from_form,
                StatusCode::NOT_FOUND,
                &format!("unknown action {other:?}: use enable or disable"),
            );
        }
    };
    match result {
        Ok(()) => {
            tracing::info!(output = %name, change = %change, "output changed from the admin page");
            // The output-state watcher applies it within a second; apply it now for this page.
            if let Some(output) = admin.relay.outputs.iter().find(|o| o.sink.name() == name) {
                output
                    .disabled
                    .store(change == "disable", std::sync::atomic::Ordering::Release);
                output.wake.notify_one();
            }
            done(
                &form,
                from_form,
                StatusCode::OK,
                &format!("{name} {change}d"),
            )
        }
        Err(err) => done(
            &form,
            from_form,
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("{err:#}"),
        ),
    }
}

fn wake_all(admin: &Admin) {
    for output in &admin.relay.outputs {
        output.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_listener_are_returned_to() {
        for ok in ["/", "/deliveries?output=raw&status=dead", "/deliveries/12"] {
            assert!(local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example",
            "https://evil.example/",
            "evil",
            "",
            "/x\\y",
        ] {
            assert!(!local_path(bad), "{bad:?}");
        }
    }
}
