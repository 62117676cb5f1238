//! What every admin response gets and every admin request must pass: security headers, the
//! `Host` check that stops DNS rebinding where reads are open, and the slow-down of wrong
//! tokens per client address.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::Admin;

/// The headers on every admin response: no framing (clickjacking), no content sniffing, no
/// referrer leaving the page, nothing loaded from elsewhere, and no copy in a cache (the pages
/// show chat text and usernames, and carry CSRF tokens).
const SECURITY_HEADERS: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// Paths any `Host` may reach: health probes carry no data and often name the address.
const ANY_HOST: [&str; 2] = ["/healthz", "/readyz"];

/// Refuses a request whose `Host` is not this listener's where reads are open (a loopback
/// listener): a page on another site whose name was made to point at 127.0.0.1 (DNS
/// rebinding) sends its own name. Then adds the security headers to whatever is answered.
///
/// A request that presents a token (a bearer token, or `POST /login`) from an address that
/// presented wrong ones lately waits ([`Throttle`]): `429` with `Retry-After`; a wrong token is
/// logged with the client's address.
pub(super) async fn guard(State(admin): State<Admin>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let client = client(request.extensions().get::<ConnectInfo<SocketAddr>>());
    let presents_token = request.headers().contains_key(header::AUTHORIZATION)
        || (path == "/login" && request.method() == axum::http::Method::POST);
    let now = Instant::now();
    let mut response = if presents_token && let Some(wait) = admin.throttle.wait(client, now) {
        too_many(wait)
    } else if admin.access.open_reads()
        && !ANY_HOST.contains(&path.as_str())
        && let Some(host) = foreign_host(request.headers(), &admin.relay.config.admin.allowed_hosts)
    {
        tracing::warn!(host = %host, path = %path, "admin request for another host refused (DNS rebinding?)");
        (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "Host {host:?} is not this admin listener's: open it as http://127.0.0.1:{port}/ or http://localhost:{port}/, or add the name to admin.allowed_hosts",
                port = admin.relay.config.admin.listen.port()
            ),
        )
            .into_response()
    } else {
        let response = next.run(request).await;
        if presents_token {
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                admin.throttle.failed(client, now);
                tracing::warn!(client = ?client, path = %path, "wrong admin token");
            } else if status.is_success() || status.is_redirection() {
                admin.throttle.succeeded(client);
            }
        }
        response
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The `Host` of `headers` when it names neither a loopback address, `localhost`, nor one of
/// `allowed`; `None` when it does (or is absent: HTTP/1.0 clients, which no browser is).
fn foreign_host(headers: &HeaderMap, allowed: &[String]) -> Option<String> {
    let host = headers.get(header::HOST)?;
    let Ok(text) = host.to_str() else {
        return Some(String::from_utf8_lossy(host.as_bytes()).into_owned());
    };
    let name = strip_port(text).to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    let local = name == "localhost"
        || name.ends_with(".localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!local && !allowed.iter().any(|a| a.eq_ignore_ascii_case(name))).then(|| text.to_owned())
}

/// `host:port` → `host` (`[::1]:9091` → `[::1]`).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

/// Wrong tokens a client address may present before it has to wait.
const FREE_FAILURES: u32 = 5;
/// The longest wait between two tries of an address that keeps failing.
const MAX_WAIT: Duration = Duration::from_mins(5);
/// Addresses remembered at once (the one failed longest ago goes first).
const MAX_ADDRESSES: usize = 4096;

/// Wrong tokens by client address: after [`FREE_FAILURES`], each try must wait twice as long
/// as the one before (1 s, 2 s, 4 s, … up to [`MAX_WAIT`]); a right token clears the address.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Throttle {
    /// How long `client` must still wait before its token is looked at (`None`: now).
    pub(crate) fn wait(&self, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let client = client?;
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, last) = failures.get(&client)?;
        let extra = count.checked_sub(FREE_FAILURES)?;
        let wait = Duration::from_secs(1_u64 << extra.min(16)).min(MAX_WAIT);
        (*last + wait)
            .checked_duration_since(now)
            .filter(|d| !d.is_zero())
    }

    /// Counts a wrong token from `client`.
    pub(crate) fn failed(&self, client: Option<IpAddr>, now: Instant) {
        let Some(client) = client else { return };
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= MAX_ADDRESSES
            && !failures.contains_key(&client)
            && let Some(oldest) = failures
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(ip, _)| *ip)
        {
            failures.remove(&oldest);
        }
        let entry = failures.entry(client).or_insert((0, now));
        *entry = (entry.0.saturating_add(1), now);
    }

    /// A right token from `client`: its failures are forgotten.
    pub(crate) fn succeeded(&self, client: Option<IpAddr>) {
        if let Some(client) = client {
            self.failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&client);
        }
    }
}

/// The client's address, where the listener recorded it.
pub(crate) fn client(connect: Option<&ConnectInfo<SocketAddr>>) -> Option<IpAddr> {
    connect.map(|ConnectInfo(addr)| addr.ip())
}

/// `429` with `Retry-After` for a client that must wait.
pub(crate) fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs().max(1);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        format!("too many wrong tokens from this address: try again in {secs} s"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn host(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn loopback_names_pass_and_others_are_named() {
        for ok in [
            "127.0.0.1:9091",
            "127.0.0.2",
            "localhost:9091",
            "LOCALHOST.",
            "admin.localhost:1",
            "[::1]:9091",
            "[::1]",
        ] {
            assert_eq!(foreign_host(&host(ok), &[]), None, "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:9091",
            "127.0.0.1.evil.example",
            "10.0.0.1:9091",
            "[::2]:1",
        ] {
            assert_eq!(foreign_host(&host(bad), &[]), Some(bad.to_owned()), "{bad}");
        }
        assert_eq!(
            foreign_host(&host("relay.internal:9091"), &["relay.internal".to_owned()]),
            None
        );
        assert_eq!(foreign_host(&HeaderMap::new(), &[]), None);
    }

    #[test]
    fn wrong_tokens_wait_longer_each_time_and_a_right_one_clears() {
        let throttle = Throttle::default();
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        let other = Some(IpAddr::from([192, 0, 2, 2]));
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.wait(ip, t0), None);
            throttle.failed(ip, t0);
        }
        assert_eq!(throttle.wait(ip, t0), Some(Duration::from_secs(1)));
        assert_eq!(throttle.wait(other, t0), None, "per address");
        throttle.failed(ip, t0);
        assert_eq!(throttle.wait(ip, t0), Some(Duration::from_secs(2)));
        assert_eq!(throttle.wait(ip, t0 + Duration::from_secs(2)), None);
        for _ in 0..40 {
            throttle.failed(ip, t0);
        }
        assert_eq!(throttle.wait(ip, t0), Some(MAX_WAIT));
        throttle.succeeded(ip);
        assert_eq!(throttle.wait(ip, t0), None);
        assert_eq!(throttle.wait(None, t0), None);
    }
}
