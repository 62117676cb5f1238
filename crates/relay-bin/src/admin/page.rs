//! The admin page as HTML: readable without JavaScript, one small stylesheet inline, no
//! external assets. Every value from outside (names, errors, event bodies) is escaped.

use std::{
    fmt::Write as _,
    time::{Duration, UNIX_EPOCH},
};

use crate::{
    admin::view::{Ingest, Status},
    clock,
    store::{DeliveryDetail, DeliveryRow},
};

/// The history entry a replay leaves (see `Store::replay`).
const REPLAYED: &str = "replayed by an operator";

/// What a page may offer: action forms need the session's CSRF token.
pub(crate) struct Viewer {
    /// The CSRF token of a logged-in browser.
    pub(crate) csrf: Option<String>,
    /// Whether `admin.token` is configured (else there are no actions).
    pub(crate) actions_configured: bool,
}

const STYLE: &str = "
:root{--fg:#1d2330;--muted:#5c6577;--line:#e1e5ec;--bg:#f6f7f9;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--accent:#53fc18}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.75rem 1rem;background:#0b0e14;color:#fff}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700}header .brand span{color:var(--accent)}
nav{display:flex;flex-wrap:wrap;gap:1rem;font-size:.95rem}header .right{margin-left:auto}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:.75rem}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.75rem}
.card .n{font-size:1.5rem;font-weight:650}.card .l{color:var(--muted);font-size:.85rem}
.chart{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.5rem;margin-top:.75rem}
.chart svg{width:100%;height:80px;display:block}.chart rect{fill:#2da44e}
.scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;white-space:nowrap}tr:last-child td{border-bottom:0}
.state{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8rem;font-weight:600}
.active,.delivered{background:#dafbe1;color:var(--ok)}.paused,.pending{background:#fff8c5;color:var(--warn)}
.disabled,.dead,.skipped,.expired{background:#ffebe9;color:var(--bad)}
.err{color:var(--bad);max-width:28rem;overflow-wrap:anywhere}.muted{color:var(--muted)}
form.inline{display:inline}button{font:inherit;font-size:.85rem;padding:.2rem .6rem;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa;cursor:pointer}
button.danger{border-color:var(--bad);color:var(--bad)}input,select{font:inherit;padding:.2rem .4rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:.75rem}
pre{background:#0b0e14;color:#e6edf3;padding:.75rem;border-radius:8px;overflow-x:auto;font-size:.85rem}
.note{background:#fff;border-left:4px solid var(--warn);padding:.5rem .75rem;margin:.75rem 0}
";

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Unix ms as RFC 3339.
fn when(ms: i64) -> String {
    clock::rfc3339(UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// `12 s`, `3 min`, `2 h`.
fn age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// The page around `body`.
pub(crate) fn layout(title: &str, viewer: &Viewer, body: &str) -> String {
    let session = match (&viewer.csrf, viewer.actions_configured) {
        (Some(csrf), _) => format!(
            "<form class=\"inline right\" method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>Log out</button></form>",
            esc(csrf)
        ),
        (None, true) => "<a class=\"right\" href=\"/login\">Log in to act</a>".to_owned(),
        (None, false) => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · kick-relay</title><style>{STYLE}</style></head><body>\
         <header><a class=\"brand\" href=\"/\">kick<span>-</span>relay</a><nav><a href=\"/\">Status</a>\
         <a href=\"/deliveries\">Deliveries</a><a href=\"/deliveries?status=dead\">Dead letters</a>\
         <a href=\"/deliveries?status=skipped\">Skipped</a></nav>{session}</header><main>{body}</main></body></html>",
        title = esc(title)
    )
}

/// `value` percent-encoded for a URL's path segment or query value: nothing in it can end
/// the segment, start a query or name another path (the handlers also refuse an output name
/// that is not configured).
pub(crate) fn encode(value: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, RESERVED).to_string()
}

/// A POST form with one button, carrying the CSRF token and where to come back to.
fn action(viewer: &Viewer, path: &str, label: &str, back: &str, extra: &str) -> String {
    let Some(csrf) = &viewer.csrf else {
        return String::new();
    };
    let class = if label.starts_with("Disable") {
        " class=\"danger\""
    } else {
        ""
    };
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"return_to\" value=\"{}\">{extra}<button{class}>{}</button></form>",
        esc(path),
        esc(csrf),
        esc(back),
        esc(label)
    )
}

/// The ingest cards, the note on what they count and the chart of events per minute.
fn ingest_section(ingest: &Ingest) -> String {
    let last_hour: u64 = ingest.events_per_minute.iter().sum();
    let mut body = String::new();
    // The counts are this process's: say so while they do not cover the hour yet.
    let (hour_label, chart_label) = if ingest.counting_for_secs < 3600 {
        let since = format!("since the start, {} ago", age(ingest.counting_for_secs));
        (
            format!("events {since}"),
            format!("Events per minute, {since}"),
        )
    } else {
        (
            "events in the last hour".to_owned(),
            "Events per minute, last hour".to_owned(),
        )
    };
    body.push_str("<div class=\"cards\">");
    for (n, label) in [
        (last_hour.to_string(), hour_label.as_str()),
        (
            ingest
                .last_event_age_secs
                .map_or_else(|| "none yet".to_owned(), |s| format!("{} ago", age(s))),
            "last event",
        ),
        (
            ingest.verification_failures.to_string(),
            "verification failures",
        ),
        (
            ingest.duplicates.to_string(),
            "duplicates (Kick's redeliveries)",
        ),
        (
            format!("{} / {}", ingest.late, ingest.stale),
            "late (over 10 min) / refused as too old or ahead",
        ),
    ] {
        let _ = write!(
            body,
            "<div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">{label}</div></div>",
            esc(&n)
        );
    }
    body.push_str("</div>");
    let _ = write!(
        body,
        "<p class=\"muted\">These counts are this relay process's, since it started {} ago; the outputs' counts below are the database's.</p>",
        age(ingest.counting_for_secs)
    );
    body.push_str(&chart(&ingest.events_per_minute, &chart_label));
    body
}

/// The overview: ingest and every output.
pub(crate) fn overview(status: &Status, viewer: &Viewer) -> String {
    let ingest = &status.ingest;
    let mut body = String::from("<h1>Status</h1>");
    if let Some(why) = &status.database_lost {
        let _ = write!(
            body,
            "<p class=\"note dead\" role=\"alert\"><strong>Not accepting events:</strong> {}</p>",
            esc(why)
        );
    }
    body.push_str(&ingest_section(ingest));
    body.push_str("<h2>Outputs</h2>");
    if !viewer.actions_configured {
        body.push_str("<p class=\"note\">Actions (replay, enable, disable) need <code>admin.token</code> in the configuration; the <code>kick-relay</code> CLI does the same.</p>");
    }
    body.push_str("<div class=\"scroll\"><table><tr><th>Output</th><th>State</th><th>Backlog</th><th>Oldest pending</th><th>Lag p50 / p99 (5 min)</th><th>Rate-limit waits</th><th>Last error</th><th></th></tr>");
    for output in &status.outputs {
        let state = match &output.disabled_reason {
            Some(reason) => format!(
                "<span class=\"state disabled\">disabled</span><div class=\"err\">{}</div>",
                esc(reason)
            ),
            None => format!("<span class=\"state {0}\">{0}</span>", output.state),
        };
        let lag = if output.lag.samples == 0 {
            "<span class=\"muted\">no deliveries</span>".to_owned()
        } else {
            format!("{} / {} ms", output.lag.p50_ms, output.lag.p99_ms)
        };
        let error = match (&output.last_error, output.last_error_at) {
            (Some(e), Some(at)) if output.recovered => format!(
                "<span class=\"muted\">delivering again; before: {}, {}</span>",
                esc(e),
                when(at)
            ),
            (Some(e), Some(at)) => format!(
                "<div class=\"err\">{}</div><div class=\"muted\">{}</div>",
                esc(e),
                when(at)
            ),
            _ => "<span class=\"muted\">none</span>".to_owned(),
        };
        let name = esc(&output.name);
        let toggle = if output.state == "disabled" {
            action(
                viewer,
                &format!("/api/outputs/{}/enable", output.name),
                "Enable",
                "/",
                "",
            )
        } else {
            action(
                viewer,
                &format!("/api/outputs/{}/disable", output.name),
                "Disable",
                "/",
                "",
            )
        };
        let _ = write!(
            body,
            "<tr data-output=\"{name}\"><td><a href=\"/deliveries?output={name}\">{name}</a><div class=\"muted\">{}</div></td><td>{state}</td><td>{}</td><td>{}</td><td>{lag}</td><td>{}</td><td>{error}</td><td>{toggle}</td></tr>",
            output.kind,
            output.pending,
            output
                .oldest_pending_secs
                .map_or_else(|| "—".to_owned(), age),
            output.rate_limited,
        );
    }
    body.push_str("</table></div>");
    layout("Status", viewer, &body)
}

/// Events per minute as bars, oldest left.
fn chart(per_minute: &[u64], label: &str) -> String {
    let max = per_minute.iter().copied().max().unwrap_or(0).max(1);
    let mut bars = String::new();
    for (i, n) in per_minute.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let height = 78.0 * (*n as f64) / (max as f64);
        let _ = write!(
            bars,
            "<rect x=\"{}\" y=\"{:.1}\" width=\"8\" height=\"{height:.1}\"><title>{n} events</title></rect>",
            i * 10,
            80.0 - height
        );
    }
    format!(
        "<div class=\"chart\" aria-label=\"{0}\"><div class=\"muted\">{0} (peak {max})</div>\
         <svg viewBox=\"0 0 600 80\" preserveAspectRatio=\"none\" role=\"img\">{bars}</svg></div>",
        esc(label)
    )
}

/// The deliveries list with its filters.
pub(crate) fn deliveries(
    rows: &[DeliveryRow],
    outputs: &[String],
    output: Option<&str>,
    status: Option<&str>,
    viewer: &Viewer,
) -> String {
    let mut body = String::from(
        "<h1>Deliveries</h1><form class=\"filters\" method=\"get\" action=\"/deliveries\"><label>Output<br><select name=\"output\"><option value=\"\">all</option>",
    );
    for name in outputs {
        let selected = if Some(name.as_str()) == output {
            " selected"
        } else {
            ""
        };
        let _ = write!(body, "<option{selected}>{}</option>", esc(name));
    }
    body.push_str(
        "</select></label><label>Status<br><select name=\"status\"><option value=\"\">all</option>",
    );
    for s in ["pending", "delivered", "dead", "skipped", "expired"] {
        let selected = if Some(s) == status { " selected" } else { "" };
        let _ = write!(body, "<option{selected}>{s}</option>");
    }
    body.push_str("</select></label><button>Show</button></form>");
    let back = format!(
        "/deliveries?output={}&status={}",
        encode(output.unwrap_or_default()),
        encode(status.unwrap_or_default())
    );
    if let (Some(output), Some(status @ ("dead" | "skipped" | "expired"))) = (output, status) {
        let fields = format!(
            "<input type=\"hidden\" name=\"status\" value=\"{status}\"> since <input name=\"since\" placeholder=\"2026-12-01T00:00:00Z\" size=\"20\"> until <input name=\"until\" placeholder=\"(now)\" size=\"20\"> "
        );
        let form = action(
            viewer,
            &format!("/api/outputs/{}/replay", encode(output)),
            &format!("Replay {status} deliveries"),
            &back,
            &fields,
        );
        if !form.is_empty() {
            let _ = write!(body, "<p>{form}</p>");
        }
    }
    body.push_str("<div class=\"scroll\"><table><tr><th>#</th><th>Output</th><th>Event</th><th>Status</th><th>Attempts</th><th>Created</th><th>Last answer</th><th></th></tr>");
    for row in rows {
        let replay = if matches!(row.status.as_str(), "dead" | "skipped" | "expired") {
            action(
                viewer,
                &format!("/api/deliveries/{}/replay", row.id),
                "Replay",
                &back,
                "",
            )
        } else {
            String::new()
        };
        let answer = match (&row.last_status, &row.last_error) {
            (Some(code), Some(e)) => format!("{code} <span class=\"err\">{}</span>", esc(e)),
            (Some(code), None) => code.to_string(),
            (None, Some(e)) => format!("<span class=\"err\">{}</span>", esc(e)),
            (None, None) => String::new(),
        };
        let _ = write!(
            body,
            "<tr data-id=\"{id}\"><td><a href=\"/deliveries/{id}\">{id}</a></td><td>{}</td><td>{}<div class=\"muted\">{}</div></td><td><span class=\"state {status}\">{status}</span></td><td>{}</td><td>{}</td><td>{answer}</td><td>{replay}</td></tr>",
            esc(&row.output),
            esc(&row.event_type),
            esc(&row.message_id),
            row.attempts,
            when(row.created_at),
            id = row.id,
            status = esc(&row.status),
        );
    }
    if rows.is_empty() {
        body.push_str("<tr><td colspan=\"8\" class=\"muted\">No deliveries match.</td></tr>");
    }
    body.push_str("</table></div>");
    layout("Deliveries", viewer, &body)
}

/// One delivery: its history and the event it carries.
pub(crate) fn detail(detail: &DeliveryDetail, viewer: &Viewer) -> String {
    let row = &detail.delivery;
    let mut body = format!(
        "<h1>Delivery {} <span class=\"state {status}\">{status}</span></h1><div class=\"scroll\"><table>\
         <tr><th>Output</th><td>{}</td></tr><tr><th>Event</th><td>{} · {}</td></tr><tr><th>Created</th><td>{}</td></tr>\
         <tr><th>Finished</th><td>{}</td></tr></table></div>",
        row.id,
        esc(&row.output),
        esc(&row.event_type),
        esc(&row.message_id),
        when(row.created_at),
        detail.finished_at.map_or_else(|| "—".to_owned(), when),
        status = esc(&row.status),
    );
    if matches!(row.status.as_str(), "dead" | "skipped" | "expired") {
        let form = action(
            viewer,
            &format!("/api/deliveries/{}/replay", row.id),
            "Replay",
            &format!("/deliveries/{}", row.id),
            "",
        );
        let _ = write!(body, "<p>{form}</p>");
    }
    body.push_str("<h2>Attempts</h2><div class=\"scroll\"><table><tr><th>When</th><th>Outcome</th><th>HTTP</th><th>Error</th></tr>");
    if detail.attempts.is_empty() && row.status == "delivered" {
        let _ = write!(
            body,
            "<tr><td>{}</td><td><span class=\"state delivered\">delivered</span></td><td>{}</td><td></td></tr>",
            detail.finished_at.map_or_else(String::new, when),
            row.last_status.map_or_else(String::new, |s| s.to_string())
        );
    }
    for attempt in &detail.attempts {
        let outcome = match (attempt.status.as_str(), attempt.error.as_deref()) {
            ("pending", Some(REPLAYED)) => "replayed",
            ("pending", _) => "retry",
            (status, _) => status,
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td><span class=\"state {}\">{}</span></td><td>{}</td><td class=\"err\">{}</td></tr>",
            when(attempt.at),
            esc(&attempt.status),
            esc(outcome),
            attempt
                .http_status
                .map_or_else(String::new, |s| s.to_string()),
            esc(attempt.error.as_deref().unwrap_or_default())
        );
    }
    if detail.attempts.is_empty() && row.status != "delivered" {
        body.push_str("<tr><td colspan=\"4\" class=\"muted\">Not sent yet.</td></tr>");
    }
    body.push_str("</table></div><h2>Event</h2>");
    match &detail.event_body {
        Some(event) => {
            let pretty = serde_json::from_str::<serde_json::Value>(event)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| event.clone());
            let _ = write!(
                body,
                "<p class=\"muted\">Kick-Event-Message-Timestamp {}</p><pre>{}</pre>",
                esc(detail.event_timestamp.as_deref().unwrap_or_default()),
                esc(&pretty)
            );
        }
        None => {
            body.push_str(
                "<p class=\"muted\">The event is no longer in the inbox (retention).</p>",
            );
        }
    }
    layout(&format!("Delivery {}", row.id), viewer, &body)
}

/// A short page saying what was wrong with a request, with a way back.
pub(crate) fn problem(message: &str) -> String {
    let viewer = Viewer {
        csrf: None,
        actions_configured: false,
    };
    layout(
        "Not found",
        &viewer,
        &format!(
            "<p class=\"note\">{}</p><p><a href=\"/\">Back to the status</a></p>",
            esc(message)
        ),
    )
}

/// What the login page says above its form.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LoginNote {
    /// Nothing.
    None,
    /// The token given was wrong.
    Wrong,
    /// No token is configured: there is nothing to log in to.
    NoToken,
}

/// The login page.
pub(crate) fn login(note: LoginNote) -> String {
    let viewer = Viewer {
        csrf: None,
        actions_configured: false,
    };
    let note = match note {
        LoginNote::None => "",
        LoginNote::Wrong => "<p class=\"note\">That is not the admin token.</p>",
        LoginNote::NoToken => {
            "<p class=\"note\">This relay has no admin token (<code>admin.token</code>), so there is nothing to log in to: the page only shows, and its actions are off. Set <code>token = \"${KICK_RELAY_ADMIN_TOKEN}\"</code> in <code>[admin]</code> and restart to use them; the command line (<code>kick-relay outputs</code>, <code>replay</code>) needs no token.</p>"
        }
    };
    layout(
        "Log in",
        &viewer,
        &format!(
            "<h1>Log in</h1>{note}<form method=\"post\" action=\"/login\"><label>Admin token (<code>admin.token</code>)<br>\
             <input type=\"password\" name=\"token\" autocomplete=\"current-password\" size=\"40\" autofocus></label> <button>Log in</button></form>"
        ),
    )
}
