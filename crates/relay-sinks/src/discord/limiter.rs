//! Pacing for Discord webhooks: stay inside Discord's limits instead of bouncing off them.
//!
//! Three limits apply to a webhook post (Discord's developer docs, "Rate Limits"):
//! - the webhook's **bucket**, announced on every answer in `X-RateLimit-Remaining` and
//!   `X-RateLimit-Reset-After` (5 requests per 2 s for webhooks);
//! - a **per-channel** limit of 30 messages per 60 s, announced nowhere: it shows only as a 429
//!   with `X-RateLimit-Scope: shared`. It is assumed from the start (or configured with
//!   `max_messages_per_minute`) and kept by counting the messages of the last minute, spread
//!   out rather than spent in a burst: at most a tenth of it in any tenth of the window (3
//!   messages per 6 s), so a busy chat gets a message every 2 s instead of 30 in 12 s and then
//!   none for 48. A `shared` 429 despite that lowers it to what the last minute held;
//! - the **global** limit of the process, a 429 with `"global": true` (or `X-RateLimit-Global`),
//!   which pauses every Discord output of the process.
//!
//! Discord bans clients that make 10,000 invalid requests (401, 403, 429) in 10 minutes, so
//! waiting before a request is always better than a 429 after it. Outputs that post to the same
//! webhook share one [`WebhookPace`]; every Discord output of a process shares one
//! [`DiscordLimits`].

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use reqwest::header::HeaderMap;

/// Discord's hidden per-channel limit: messages per minute.
pub const DISCORD_CHANNEL_LIMIT: u32 = 30;
/// The window of the per-channel limit.
const CHANNEL_WINDOW: Duration = Duration::from_mins(1);
/// The channel limit is spread over the window: at most `limit / BURST_PARTS` messages (at
/// least one) in any `CHANNEL_WINDOW / BURST_PARTS`.
const BURST_PARTS: u32 = 10;

/// The limits every Discord output of a process shares: the global pause and one pace per
/// webhook. Cheap to clone (an `Arc` inside).
#[derive(Clone, Default)]
pub struct DiscordLimits {
    inner: Arc<Mutex<Shared>>,
}

#[derive(Default)]
struct Shared {
    /// No request to Discord before this (a global 429).
    global_until: Option<Instant>,
    /// Per webhook (keyed by its id and token, never printed).
    webhooks: HashMap<String, Arc<Mutex<Pace>>>,
}

impl fmt::Debug for DiscordLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordLimits").finish_non_exhaustive()
    }
}

impl DiscordLimits {
    /// Fresh limits (one per process; [`crate::DiscordSink::new`] makes its own when not given).
    pub fn new() -> Self {
        Self::default()
    }

    /// The pace of the webhook `key` (its URL path), shared by every output posting to it.
    pub(crate) fn webhook(&self, key: &str, max_per_minute: Option<u32>) -> WebhookPace {
        let mut shared = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let pace = Arc::clone(shared.webhooks.entry(key.to_owned()).or_default());
        if let Some(limit) = max_per_minute {
            let mut state = pace.lock().unwrap_or_else(PoisonError::into_inner);
            state.channel_limit = Some(state.channel_limit.map_or(limit, |l| l.min(limit)));
        }
        WebhookPace {
            limits: self.clone(),
            pace,
        }
    }

    fn global_wait(&self, now: Instant) -> Option<Duration> {
        let shared = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        shared
            .global_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|wait| !wait.is_zero())
    }

    fn pause_globally(&self, until: Instant) {
        let mut shared = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        shared.global_until = Some(shared.global_until.map_or(until, |u| u.max(until)));
    }
}

/// What is known of one webhook's limits.
#[derive(Debug, Default)]
struct Pace {
    /// Requests left in the bucket, and when it refills.
    bucket: Option<(u32, Instant)>,
    /// Messages per minute the channel takes (configured, or lowered by a `shared` 429);
    /// [`DISCORD_CHANNEL_LIMIT`] when `None`.
    channel_limit: Option<u32>,
    /// When the messages of the last minute were posted.
    posted: VecDeque<Instant>,
    /// No request before this (a 429 that was not global).
    blocked_until: Option<Instant>,
}

/// One webhook's pace, as seen by an output.
#[derive(Clone)]
pub(crate) struct WebhookPace {
    limits: DiscordLimits,
    pace: Arc<Mutex<Pace>>,
}

impl fmt::Debug for WebhookPace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookPace").finish_non_exhaustive()
    }
}

/// What a Discord answer said about the limits.
#[derive(Debug, Default)]
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    pub(crate) headers: Option<&'a HeaderMap>,
    pub(crate) body: &'a [u8],
}

impl WebhookPace {
    /// How long to wait before the next request would be inside every known limit.
    pub(crate) fn wait(&self, now: Instant) -> Option<Duration> {
        let global = self.limits.global_wait(now);
        let mut pace = self.pace.lock().unwrap_or_else(PoisonError::into_inner);
        while pace
            .posted
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= CHANNEL_WINDOW)
        {
            pace.posted.pop_front();
        }
        let blocked = pace
            .blocked_until
            .and_then(|u| u.checked_duration_since(now));
        let bucket = match pace.bucket {
            Some((0, reset)) => reset.checked_duration_since(now),
            _ => None,
        };
        let limit = pace.channel_limit.unwrap_or(DISCORD_CHANNEL_LIMIT).max(1);
        let posted = &pace.posted;
        // The n-th most recent message must be older than `span` before one more goes out.
        let wait_for = |n: u32, span: Duration| -> Option<Duration> {
            let n = usize::try_from(n.max(1)).ok()?;
            let at = posted.len().checked_sub(n)?;
            (*posted.get(at)? + span).checked_duration_since(now)
        };
        let channel = wait_for(limit, CHANNEL_WINDOW);
        let burst = wait_for(limit / BURST_PARTS, CHANNEL_WINDOW / BURST_PARTS);
        [global, blocked, bucket, channel, burst]
            .into_iter()
            .flatten()
            .filter(|wait| !wait.is_zero())
            .max()
    }

    /// Learns from an answer (or its absence: `headers` is `None` when no answer came).
    pub(crate) fn observe(&self, answer: &Answer<'_>, now: Instant) {
        let mut pace = self.pace.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(headers) = answer.headers else {
            return;
        };
        let remaining = header_f64(headers, "x-ratelimit-remaining");
        let reset_after = header_f64(headers, "x-ratelimit-reset-after").and_then(secs);
        if let (Some(remaining), Some(reset_after)) = (remaining, reset_after) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let remaining = remaining.max(0.0) as u32;
            pace.bucket = Some((remaining, now + reset_after));
        }
        if (200..300).contains(&answer.status) {
            pace.posted.push_back(now);
            return;
        }
        if answer.status != 429 {
            return;
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(answer.body).ok();
        let retry_after = json
            .as_ref()
            .and_then(|j| j.get("retry_after")?.as_f64())
            .and_then(secs)
            .or_else(|| header_f64(headers, "retry-after").and_then(secs))
            .or(reset_after)
            .unwrap_or(Duration::from_secs(1));
        let global = json
            .as_ref()
            .and_then(|j| j.get("global")?.as_bool())
            .unwrap_or(false)
            || headers.contains_key("x-ratelimit-global");
        if global {
            drop(pace);
            self.limits.pause_globally(now + retry_after);
            return;
        }
        let shared = headers
            .get("x-ratelimit-scope")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|scope| scope.eq_ignore_ascii_case("shared"));
        if shared {
            // The channel takes fewer than assumed: no more than the last minute held.
            let held = u32::try_from(pace.posted.len()).unwrap_or(u32::MAX).max(1);
            let limit = pace.channel_limit.unwrap_or(DISCORD_CHANNEL_LIMIT);
            pace.channel_limit = Some(limit.min(held));
        }
        let until = now + retry_after;
        pace.blocked_until = Some(pace.blocked_until.map_or(until, |u| u.max(until)));
    }
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn secs(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0)
        .then(|| Duration::try_from_secs_f64(value.min(86_400.0)).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ok(pace: &WebhookPace, h: &HeaderMap, at: Instant) {
        pace.observe(
            &Answer {
                status: 200,
                headers: Some(h),
                body: b"{}",
            },
            at,
        );
    }

    #[test]
    fn an_empty_bucket_waits_for_its_reset() {
        let limits = DiscordLimits::new();
        let pace = limits.webhook("a", None);
        let t0 = Instant::now();
        ok(
            &pace,
            &headers(&[
                ("x-ratelimit-remaining", "1"),
                ("x-ratelimit-reset-after", "2"),
            ]),
            t0,
        );
        assert_eq!(pace.wait(t0), None);
        ok(
            &pace,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1.5"),
            ]),
            t0,
        );
        assert_eq!(pace.wait(t0), Some(Duration::from_millis(1500)));
        assert_eq!(pace.wait(t0 + Duration::from_secs(2)), None);
    }

    #[test]
    fn the_channel_limit_is_spread_over_the_minute() {
        let limits = DiscordLimits::new();
        let pace = limits.webhook("a", None);
        let t0 = Instant::now();
        let none = HeaderMap::new();
        for i in 0..3 {
            assert_eq!(pace.wait(t0), None, "message {i} of a burst of 3");
            ok(&pace, &none, t0);
        }
        assert_eq!(
            pace.wait(t0),
            Some(Duration::from_secs(6)),
            "then 3 per 6 s"
        );
        // A busy channel: 30 in the minute, then the oldest must leave the window.
        for i in 1..10 {
            let at = t0 + Duration::from_secs(6 * i);
            for _ in 0..3 {
                assert_eq!(pace.wait(at), None);
                ok(&pace, &none, at);
            }
        }
        assert_eq!(
            pace.wait(t0 + Duration::from_secs(55)),
            Some(Duration::from_secs(5))
        );
        assert_eq!(pace.wait(t0 + Duration::from_mins(1)), None);
    }

    #[test]
    fn a_shared_429_lowers_the_channel_limit_to_what_the_minute_held() {
        let limits = DiscordLimits::new();
        let pace = limits.webhook("a", None);
        let t0 = Instant::now();
        let none = HeaderMap::new();
        for i in 0..12 {
            ok(&pace, &none, t0 + Duration::from_secs(5 * i));
        }
        pace.observe(
            &Answer {
                status: 429,
                headers: Some(&headers(&[("x-ratelimit-scope", "shared")])),
                body: br#"{"message":"You are being rate limited.","retry_after":3.5,"global":false}"#,
            },
            t0 + Duration::from_secs(56),
        );
        // Blocked for the 429's 3.5 s; then 12 a minute, one per 6 s: the last (55 s) must be
        // 6 s old.
        assert_eq!(
            pace.wait(t0 + Duration::from_secs(56)),
            Some(Duration::from_secs(5))
        );
        assert!(pace.wait(t0 + Duration::from_secs(61)).is_none());
        ok(&pace, &none, t0 + Duration::from_secs(61));
        assert_eq!(
            pace.wait(t0 + Duration::from_secs(62)),
            Some(Duration::from_secs(5)),
            "12 a minute now, spread out: one per 6 s"
        );
    }

    #[test]
    fn a_configured_limit_holds_from_the_start_and_a_global_429_pauses_every_webhook() {
        let limits = DiscordLimits::new();
        let a = limits.webhook("a", Some(2));
        let b = limits.webhook("b", None);
        let shared_a = limits.webhook("a", None);
        let t0 = Instant::now();
        let none = HeaderMap::new();
        ok(&a, &none, t0);
        ok(&shared_a, &none, t0);
        assert!(a.wait(t0).is_some(), "two per minute, both used");
        assert!(
            shared_a.wait(t0).is_some(),
            "outputs on one webhook share its pace"
        );
        assert_eq!(b.wait(t0), None);
        b.observe(
            &Answer {
                status: 429,
                headers: Some(&none),
                body: br#"{"retry_after":2,"global":true}"#,
            },
            t0,
        );
        let other = limits.webhook("c", None);
        assert_eq!(other.wait(t0), Some(Duration::from_secs(2)));
    }
}
