//! Who may read the admin page and who may act on it.
//!
//! On a loopback listener anyone who can reach it may read (as with `/metrics`); off loopback
//! reading needs the token too. Actions always need `admin.token`: from a script as
//! `Authorization: Bearer <token>`, from a browser as a session cookie (after `POST /login` with
//! the token) plus the session's CSRF token in the form. Without a configured token there are no
//! actions (the CLI does the same work).

use std::{
    collections::HashMap,
    fmt,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::http::{HeaderMap, header};

/// The cookie that carries a browser session.
pub(crate) const SESSION_COOKIE: &str = "kick_relay_session";
/// How long a browser session lasts.
const SESSION_LIFETIME: Duration = Duration::from_hours(12);
/// Sessions kept at once (the oldest goes first).
const MAX_SESSIONS: usize = 64;

/// A logged-in browser.
#[derive(Clone)]
pub(crate) struct Session {
    /// Put in every form; an action must bring it back.
    pub(crate) csrf: String,
    started: Instant,
}

/// The admin listener's access rules.
pub(crate) struct Access {
    token: Option<String>,
    open_reads: bool,
    sessions: Mutex<HashMap<String, Session>>,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("open_reads", &self.open_reads)
            .finish_non_exhaustive()
    }
}

/// Why an action was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No `admin.token` is configured.
    NoToken,
    /// Neither a valid bearer token nor a session with the right CSRF token.
    NotAllowed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoToken => {
                "actions need admin.token in the configuration (or use the kick-relay CLI)"
            }
            Self::NotAllowed => {
                "not allowed: send Authorization: Bearer <admin.token>, or log in at /login and use the page's forms"
            }
        })
    }
}

impl Access {
    pub(crate) fn new(token: Option<String>, loopback: bool) -> Self {
        Self {
            token,
            open_reads: loopback,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether anyone who reaches the listener may read (a loopback listener).
    pub(crate) fn open_reads(&self) -> bool {
        self.open_reads
    }

    /// Whether actions can be taken at all.
    pub(crate) fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `headers` may read pages and the JSON API.
    pub(crate) fn can_read(&self, headers: &HeaderMap) -> bool {
        self.open_reads || self.bearer_ok(headers) || self.session(headers).is_some()
    }

    /// Whether `headers` (and the form's `csrf`) may act.
    pub(crate) fn can_act(&self, headers: &HeaderMap, csrf: Option<&str>) -> Result<(), Refusal> {
        if self.token.is_none() {
            return Err(Refusal::NoToken);
        }
        if self.bearer_ok(headers) {
            return Ok(());
        }
        match (self.session(headers), csrf) {
            (Some(session), Some(csrf)) if same(&session.csrf, csrf) => Ok(()),
            _ => Err(Refusal::NotAllowed),
        }
    }

    /// A new session for a browser that presented the right token: (cookie value, session).
    pub(crate) fn login(&self, presented: &str) -> Option<(String, Session)> {
        let token = self.token.as_deref()?;
        if !same(token, presented) {
            return None;
        }
        let id = random_hex()?;
        let session = Session {
            csrf: random_hex()?,
            started: Instant::now(),
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, s| s.started.elapsed() < SESSION_LIFETIME);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(id.clone(), session.clone());
        Some((id, session))
    }

    /// Ends the browser's session.
    pub(crate) fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, SESSION_COOKIE) {
            self.sessions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
        }
    }

    /// The browser's live session, if any.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .get(&id)
            .filter(|s| s.started.elapsed() < SESSION_LIFETIME)
            .cloned()
    }

    fn bearer_ok(&self, headers: &HeaderMap) -> bool {
        let (Some(token), Some(presented)) = (
            self.token.as_deref(),
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer ")),
        ) else {
            return false;
        };
        same(token, presented.trim())
    }
}

/// The value of cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Compares secrets in constant time (subtle): how much of a guess is right does not show in
/// how long the answer takes.
pub(crate) fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// 32 random bytes from the operating system, as hex; `None` when it has none to give (no
/// session is made then: a guessable one would be worse).
fn random_hex() -> Option<String> {
    use std::fmt::Write as _;

    let mut bytes = [0_u8; 32];
    if let Err(err) = getrandom::fill(&mut bytes) {
        tracing::error!(error = %err, "the operating system gave no randomness for a session id");
        return None;
    }
    Some(bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn actions_need_the_token_or_a_session_with_its_csrf_token() {
        let access = Access::new(Some("0123456789abcdef".into()), true);
        let none = HeaderMap::new();
        assert!(access.can_read(&none), "loopback reads are open");
        assert!(access.can_act(&none, None).is_err());
        let bearer = with(header::AUTHORIZATION, "Bearer 0123456789abcdef");
        assert!(access.can_act(&bearer, None).is_ok());
        let wrong = with(header::AUTHORIZATION, "Bearer 0123456789abcdeX");
        assert!(access.can_act(&wrong, None).is_err());
        assert!(access.login("nope").is_none());
        let (id, session) = access.login("0123456789abcdef").unwrap();
        let browser = with(header::COOKIE, &format!("other=1; {SESSION_COOKIE}={id}"));
        assert!(access.can_act(&browser, Some(&session.csrf)).is_ok());
        assert!(access.can_act(&browser, None).is_err(), "no CSRF token");
        assert!(access.can_act(&browser, Some("forged")).is_err());
        access.logout(&browser);
        assert!(access.can_act(&browser, Some(&session.csrf)).is_err());
    }

    #[test]
    fn off_loopback_reading_needs_the_token_and_without_one_there_are_no_actions() {
        let access = Access::new(Some("0123456789abcdef".into()), false);
        assert!(!access.can_read(&HeaderMap::new()));
        assert!(access.can_read(&with(header::AUTHORIZATION, "Bearer 0123456789abcdef")));
        let open = Access::new(None, true);
        assert!(matches!(
            open.can_act(&with(header::AUTHORIZATION, "Bearer x"), None),
            Err(Refusal::NoToken)
        ));
    }
}
