//! The body keys of the last [`BODY_DEDUP_WINDOW`], in the writer's memory instead of an index.
//!
//! An event that is neither a chat message nor a Drops claim is a duplicate when another
//! subscription delivered the same type, version and body within 30 s (Kick's copies for a
//! duplicate subscription). Kept in `log_dedup`, each such key was a random entry in an index
//! over the whole retention for a check that looks 30 s back: about a page of the WAL per
//! event (docs/benchmarks/FINDINGS.md, finding 34). On SQLite one process writes (`serve` holds
//! the database's lock), so the writer keeps them here; at start they are read back from the
//! log's last window, so a restart forgets none.
//!
//! Bounded: at most [`MAX_KEYS`] keys. Past that the oldest leave before their 30 s are up
//! (logged at warn, at most once a minute, with the count); a copy of one of those would be
//! relayed twice. At the bound the window still covers 100,000 such events, over 3,000 a
//! second for 30 s. A key is held as a 64-bit keyed hash (`SipHash`, a random key per process):
//! two body keys of the window taken for one another is a chance of about 1 in 10^14 per event.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    hash::{BuildHasher, RandomState},
    sync::Arc,
};

use rusqlite::Connection;

use crate::{
    records::{BODY_DEDUP_WINDOW, BODY_KEY_PREFIX, body_key},
    store::dedup::SeenKeys,
};

/// The most keys held.
pub(super) const MAX_KEYS: usize = 100_000;

/// The window, ms.
const WINDOW_MS: i64 = BODY_DEDUP_WINDOW.as_secs().cast_signed() * 1000;

/// The subscriptions a key was seen from: the two latest distinct ones with their latest time
/// (enough to answer "another subscription within the window?" for any subscription).
type Seen = [Option<(Option<Arc<str>>, i64)>; 2];

/// Body keys seen in the last window, with the subscription they came from.
#[derive(Debug, Default)]
pub(super) struct RecentKeys {
    by_key: HashMap<u64, Seen>,
    /// (time, key) in the order noted: what leaves first.
    order: VecDeque<(i64, u64)>,
    /// Subscription ids, shared by the entries naming them.
    subscriptions: HashSet<Arc<str>>,
    hasher: RandomState,
    /// Keys that left before their window was up (the bound was reached).
    evicted: u64,
    /// When that was last logged.
    warned_at: Option<i64>,
}

/// Whether `key` is a body key: kept in [`RecentKeys`], not in the log's key index.
pub(super) fn is_body_key(key: &str) -> bool {
    key.starts_with(BODY_KEY_PREFIX)
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

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// What is held for `key`, in the shape the duplicate decision reads (`None`: nothing).
    pub(super) fn seen(&self, key: &str) -> Option<Vec<(Option<String>, i64)>> {
        let seen = self.by_key.get(&self.hash(key))?;
        Some(
            seen.iter()
                .flatten()
                .map(|(subscription, at)| (subscription.as_deref().map(str::to_owned), *at))
                .collect(),
        )
    }

    /// Fills `keys` with what is held for each of `wanted` (the group's body keys).
    pub(super) fn fill<'a>(&self, wanted: impl IntoIterator<Item = &'a str>, keys: &mut SeenKeys) {
        for key in wanted {
            if let Some(rows) = self.seen(key) {
                keys.insert(key.to_owned(), rows);
            }
        }
    }

    /// Notes `key` seen from `subscription` at `at` (after its group committed), and lets the
    /// keys older than the window before `at` go.
    pub(super) fn note(&mut self, key: &str, subscription: Option<&str>, at: i64) {
        self.expire(at.saturating_sub(WINDOW_MS));
        let subscription = subscription.map(|id| self.intern(id));
        let hash = self.hash(key);
        let seen = self.by_key.entry(hash).or_default();
        let same = seen
            .iter()
            .position(|slot| slot.as_ref().is_some_and(|(s, _)| *s == subscription));
        if let Some(i) = same {
            if let Some((_, latest)) = &mut seen[i] {
                *latest = (*latest).max(at);
            }
        } else {
            // Keep the two latest distinct subscriptions: the newcomer replaces the older.
            let older = match (&seen[0], &seen[1]) {
                (None, _) => 0,
                (_, None) => 1,
                (Some((_, a)), Some((_, b))) => usize::from(b < a),
            };
            seen[older] = Some((subscription, at));
        }
        self.order.push_back((at, hash));
        while self.by_key.len() > MAX_KEYS {
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
        if self.subscriptions.len() > MAX_KEYS {
            // Only entries hold them now: a new one is interned again.
            self.subscriptions.clear();
        }
    }

    /// Forgets `hash` when nothing newer than `at` was noted for it; whether it did.
    fn forget(&mut self, hash: u64, at: i64) -> bool {
        let newer = self
            .by_key
            .get(&hash)
            .is_some_and(|seen| seen.iter().flatten().any(|(_, latest)| *latest > at));
        !newer && self.by_key.remove(&hash).is_some()
    }

    fn intern(&mut self, id: &str) -> Arc<str> {
        if let Some(shared) = self.subscriptions.get(id) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(id);
        self.subscriptions.insert(Arc::clone(&shared));
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_KEYS, RecentKeys, WINDOW_MS};

    #[test]
    fn holds_the_two_latest_subscriptions_of_a_key() {
        let mut keys = RecentKeys::default();
        keys.note("body:a", Some("s1"), 1_000);
        keys.note("body:a", Some("s2"), 2_000);
        keys.note("body:a", Some("s1"), 3_000);
        keys.note("body:a", Some("s3"), 4_000);
        let mut seen = keys.seen("body:a").unwrap();
        seen.sort();
        // s2 was the older of the two held when s3 came.
        assert_eq!(
            seen,
            vec![(Some("s1".into()), 3_000), (Some("s3".into()), 4_000)]
        );
        assert_eq!(keys.seen("body:b"), None);
    }

    #[test]
    fn keys_leave_after_the_window_unless_seen_again() {
        let mut keys = RecentKeys::default();
        keys.note("body:a", Some("s1"), 0);
        keys.note("body:b", None, 10);
        keys.note("body:a", Some("s1"), WINDOW_MS - 5);
        keys.note("body:c", Some("s1"), WINDOW_MS + 20);
        // b is older than the window before c; a was seen again inside it.
        assert_eq!(keys.seen("body:b"), None);
        assert_eq!(
            keys.seen("body:a"),
            Some(vec![(Some("s1".into()), WINDOW_MS - 5)])
        );
        keys.note("body:d", None, 2 * WINDOW_MS);
        assert_eq!(keys.seen("body:a"), None);
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
        assert_eq!(keys.seen("body:0"), None);
        assert!(keys.seen(&format!("body:{}", MAX_KEYS + 9)).is_some());
    }
}
