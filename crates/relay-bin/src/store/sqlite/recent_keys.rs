//! The body keys of the last [`BODY_DEDUP_WINDOW`], in the writer's memory instead of an index.
//!
//! An event that is neither a chat message nor a Drops claim is a duplicate when another
//! subscription delivered the same type, version and body within 30 s (Kick's copies for a
//! duplicate subscription). Kept in the log's key index, each such key was a random entry in an
//! index over the whole retention for a check that looks 30 s back: about a page of the WAL
//! per event (docs/benchmarks/FINDINGS.md, finding 34). On SQLite one process writes (`serve`
//! holds the database's lock), so the writer keeps them here; at start they are read back from
//! the log's last window, so a restart forgets none.
//!
//! Bounded: at most [`MAX_KEYS`] keys (about 3 MB). Past that the oldest leave before their
//! 30 s are up (logged at warn, at most once a minute, with the count); a copy of one of those
//! would be relayed twice. At the bound the window still covers over 57,000 such events, 1,900
//! a second for 30 s (Kick's follows, subs and gifts come far slower). Keys and subscription
//! ids are held as 64-bit keyed hashes (`SipHash`, a random key per process): two body keys of
//! the window taken for one another is a chance of about 1 in 10^14 per event.

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
};

use rusqlite::Connection;

use crate::store::keys::{BODY_DEDUP_WINDOW, body_key, is_body_key};

/// The most keys held: as many as 65,536 buckets of the map hold before it grows.
pub(super) const MAX_KEYS: usize = 57_344;

/// The window, ms.
const WINDOW_MS: i64 = BODY_DEDUP_WINDOW.as_secs().cast_signed() * 1000;

/// The subscriptions a key was seen from: the two latest distinct ones (hashed) with their
/// latest time, enough to answer "another subscription within the window?" for any
/// subscription. An empty slot has time `i64::MIN`. A delivery without a subscription id is
/// never a copy and never has one, so it is not noted.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: [i64; 2],
    subscription: [u64; 2],
}

/// Body keys seen in the last window, with the subscriptions they came from.
#[derive(Debug, Default)]
pub(super) struct RecentKeys {
    by_key: HashMap<u64, Seen>,
    /// (time, key) in the order noted: what leaves first.
    order: VecDeque<(i64, u64)>,
    hasher: RandomState,
    /// Keys that left before their window was up (the bound was reached).
    evicted: u64,
    /// When that was last logged.
    warned_at: Option<i64>,
}

impl RecentKeys {
    /// The body keys of the log's last window (before its newest row), as the writer had
    /// them when it stopped.
    ///
    /// # Errors
    /// A failed read.
    pub(super) fn load(connection: &Connection) -> rusqlite::Result<Self> {
        let mut statement = connection.prepare(
            "SELECT received_at, dedup_key, event_type, version, subscription_id, body \
             FROM log ORDER BY seq DESC",
        )?;
        let mut rows = statement.query([])?;
        let mut tail = Vec::new();
        let mut since = None;
        while let Some(row) = rows.next()? {
            let at: i64 = row.get(0)?;
            if at < *since.get_or_insert(at.saturating_sub(WINDOW_MS)) {
                break;
            }
            let key = match row.get::<_, Option<String>>(1)? {
                Some(key) if is_body_key(&key) => key,
                Some(_) => continue,
                None => body_key(
                    &row.get::<_, String>(2)?,
                    &row.get::<_, String>(3)?,
                    row.get_ref(5)?.as_bytes()?,
                ),
            };
            tail.push((key, row.get::<_, Option<String>>(4)?, at));
        }
        let mut keys = Self::default();
        for (key, subscription, at) in tail.iter().rev() {
            keys.note(key, subscription.as_deref(), *at);
        }
        Ok(keys)
    }

    /// Keys that left before their window was up, since start.
    #[cfg(test)]
    pub(super) fn evicted(&self) -> u64 {
        self.evicted
    }

    /// How many keys are held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether another subscription than `subscription` delivered `key` at `since` or later
    /// (a duplicate subscription's copy).
    pub(super) fn is_copy(&self, key: &str, subscription: Option<&str>, since: i64) -> bool {
        let Some(mine) = subscription.map(|id| self.hasher.hash_one(id)) else {
            return false;
        };
        self.by_key
            .get(&self.hasher.hash_one(key))
            .is_some_and(|seen| (0..2).any(|i| seen.at[i] >= since && seen.subscription[i] != mine))
    }

    /// Notes `key` delivered by `subscription` at `at` (after its group committed), and lets
    /// the keys older than the window before `at` go.
    pub(super) fn note(&mut self, key: &str, subscription: Option<&str>, at: i64) {
        self.expire(at.saturating_sub(WINDOW_MS));
        let Some(subscription) = subscription.map(|id| self.hasher.hash_one(id)) else {
            return;
        };
        let hash = self.hasher.hash_one(key);
        let seen = self.by_key.entry(hash).or_insert(Seen {
            at: [i64::MIN; 2],
            subscription: [0; 2],
        });
        let latest = seen.at[0].max(seen.at[1]);
        let slot = (0..2)
            .find(|&i| seen.at[i] > i64::MIN && seen.subscription[i] == subscription)
            // Keep the two latest distinct subscriptions: the newcomer replaces the older.
            .unwrap_or_else(|| usize::from(seen.at[1] < seen.at[0]));
        seen.at[slot] = seen.at[slot].max(at);
        seen.subscription[slot] = subscription;
        // One entry per key and time it was last noted at: it leaves with the newest.
        if at > latest {
            self.order.push_back((at, hash));
        }
        // The order holds one entry per note: bounded too, for a key noted again and again.
        while self.by_key.len() > MAX_KEYS || self.order.len() > 2 * MAX_KEYS {
            let Some((at, hash)) = self.order.pop_front() else {
                break;
            };
            if self.forget(hash, at) {
                self.evicted += 1;
            }
        }
        if self.evicted > 0
            && self
                .warned_at
                .is_none_or(|last| at.abs_diff(last) >= 60_000)
        {
            self.warned_at = Some(at);
            tracing::warn!(
                evicted = self.evicted,
                "more than {MAX_KEYS} events other than chat in 30 s: the oldest body keys left \
                 the duplicate check early ({} since start); a duplicate subscription's copy \
                 of one of them would be relayed twice",
                self.evicted
            );
        }
    }

    /// Lets every key last seen before `before` go.
    fn expire(&mut self, before: i64) {
        while let Some(&(at, hash)) = self.order.front() {
            if at >= before {
                break;
            }
            self.order.pop_front();
            self.forget(hash, at);
        }
    }

    /// Forgets `hash` when nothing newer than `at` was noted for it; whether it did.
    fn forget(&mut self, hash: u64, at: i64) -> bool {
        let newer = self
            .by_key
            .get(&hash)
            .is_some_and(|seen| seen.at.iter().any(|latest| *latest > at));
        !newer && self.by_key.remove(&hash).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_KEYS, RecentKeys, WINDOW_MS};

    #[test]
    fn a_copy_is_another_subscriptions_delivery_inside_the_window() {
        let mut keys = RecentKeys::default();
        keys.note("body:a", Some("s1"), 1_000);
        assert!(keys.is_copy("body:a", Some("s2"), 0));
        assert!(
            !keys.is_copy("body:a", Some("s1"), 0),
            "the same subscription"
        );
        assert!(!keys.is_copy("body:a", None, 0), "no subscription id");
        assert!(
            !keys.is_copy("body:a", Some("s2"), 1_001),
            "before the window"
        );
        assert!(!keys.is_copy("body:b", Some("s2"), 0));
        keys.note("body:n", None, 1_000);
        assert!(!keys.is_copy("body:n", Some("s2"), 0));
    }

    #[test]
    fn holds_the_two_latest_subscriptions_of_a_key() {
        let mut keys = RecentKeys::default();
        keys.note("body:a", Some("s1"), 1_000);
        keys.note("body:a", Some("s2"), 2_000);
        keys.note("body:a", Some("s1"), 3_000);
        keys.note("body:a", Some("s3"), 4_000);
        // s2 was the older of the two held when s3 came; s1 is held at 3,000.
        assert!(keys.is_copy("body:a", Some("s3"), 3_000));
        assert!(keys.is_copy("body:a", Some("s1"), 4_000));
        assert!(!keys.is_copy("body:a", Some("s3"), 3_001));
        assert!(!keys.is_copy("body:a", Some("s1"), 4_001));
    }

    #[test]
    fn keys_leave_after_the_window_unless_seen_again() {
        let mut keys = RecentKeys::default();
        keys.note("body:a", Some("s1"), 0);
        keys.note("body:b", Some("s1"), 10);
        keys.note("body:a", Some("s1"), WINDOW_MS - 5);
        keys.note("body:c", Some("s1"), WINDOW_MS + 20);
        // b is older than the window before c; a was noted again inside it.
        assert!(!keys.is_copy("body:b", Some("s2"), i64::MIN + 1));
        assert!(keys.is_copy("body:a", Some("s2"), WINDOW_MS - 5));
        keys.note("body:d", Some("s1"), 2 * WINDOW_MS);
        assert!(!keys.is_copy("body:a", Some("s2"), i64::MIN + 1));
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.evicted(), 0);
    }

    #[test]
    fn the_bound_lets_the_oldest_go_early_and_counts_them() {
        let mut keys = RecentKeys::default();
        for i in 0..MAX_KEYS + 10 {
            keys.note(&format!("body:{i}"), Some("s"), 1_000);
        }
        assert_eq!(keys.len(), MAX_KEYS);
        assert_eq!(keys.evicted(), 10);
        assert!(!keys.is_copy("body:0", Some("t"), 0));
        assert!(keys.is_copy(&format!("body:{}", MAX_KEYS + 9), Some("t"), 0));
        // One key noted again and again keeps one entry, and a bounded order.
        let mut keys = RecentKeys::default();
        for i in 0..3 * MAX_KEYS {
            keys.note(
                "body:same",
                Some("s"),
                1_000 + i64::try_from(i / 7).unwrap(),
            );
        }
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.evicted(), 0);
        assert!(keys.order.len() <= 2 * MAX_KEYS);
    }
}
