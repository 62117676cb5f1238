//! Rows this process has just committed, handed to their output's worker with the event
//! already parsed, so that a worker keeping pace sends them without reading them back from
//! the database and parsing the event again.
//!
//! The feed is a shortcut, never the record: the outbox is. A worker takes rows from the feed
//! only while it is in step with the store (its last read of the store found everything
//! pending and the feed has lost nothing since that read began); whenever the feed overflows
//! (the worker fell behind) it says so and the worker reads the store again. Only SQLite has
//! feeds: there this process is the only writer of new rows, and a single writer commits them
//! in id order. Replicas on PostgreSQL commit rows the others' feeds never see.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use super::Head;

/// Rows a feed holds; beyond, it drops them all and the worker reads the store instead.
pub const FEED_CAPACITY: usize = 1024;
/// Bytes of events a feed holds (as [`Head::bytes`] counts them); beyond, as beyond
/// [`FEED_CAPACITY`]. 1,024 of Kick's deliveries (1 to 3 KiB each) fit; 1,024 signed 1 MiB
/// bodies behind a stalled output do not grow the process by a GiB.
pub const FEED_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Rows for the feeds: each with its output's name; `None` for a pending row committed
/// without its parsed event (a feed cannot carry it: its worker reads the store).
pub(super) type FeedRows = Vec<(String, Option<Head>)>;

/// One output's feed.
#[derive(Debug, Default)]
pub struct Feed {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Committed pending rows, in id order.
    rows: VecDeque<Head>,
    /// What they hold ([`Head::bytes`] summed).
    bytes: usize,
    /// Rows went past the feed since the worker last marked it.
    lost: Option<Loss>,
}

/// How rows went past a feed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum Loss {
    /// It overflowed: the rows dropped are all past the worker's cursor.
    Overflow,
    /// An operator made finished rows pending again: they may be anywhere in the queue.
    Requeued,
}

/// What [`Feed::take`] found.
#[derive(Debug)]
pub enum Taken {
    /// The next rows, in id order.
    Rows(Vec<Head>),
    /// Nothing new.
    Empty,
    /// The feed overflowed (the worker fell behind): read the store from the cursor on.
    Behind,
    /// Rows were made pending again outside the feed: read the store from the queue's head
    /// (what a worker also does every so often, for the requeues of other processes).
    Rescan,
}

impl Feed {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a row the writer has just committed (after every row committed before it);
    /// `None`, a row it cannot carry, sends the worker to the store (as an overflow does).
    pub(super) fn push(&self, row: Option<Head>) {
        let mut state = self.state();
        match row {
            Some(row)
                if state.rows.len() < FEED_CAPACITY
                    && state.bytes.saturating_add(row.bytes()) <= FEED_MAX_BYTES =>
            {
                state.bytes = state.bytes.saturating_add(row.bytes());
                state.rows.push_back(row);
            }
            _ => {
                state.clear();
                if state.lost.is_none() {
                    state.lost = Some(Loss::Overflow);
                }
            }
        }
    }

    /// Bytes the feed holds now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.state().bytes
    }

    /// Says that rows were dropped outside the feed's view (an operator requeued rows), so
    /// the worker reads the store.
    pub(super) fn invalidate(&self) {
        self.state().lost = Some(Loss::Requeued);
    }

    /// Called before the worker reads the store: from here on, [`Feed::intact`] says whether
    /// every row committed after that read began is in the feed. The rows held so far are
    /// dropped: they were committed before the read, which finds those still pending (a worker
    /// that read from the queue's head could otherwise take rows it has already sent).
    pub fn mark(&self) {
        let mut state = self.state();
        state.clear();
        state.lost = None;
    }

    /// Whether nothing went past the feed since [`Feed::mark`].
    pub fn intact(&self) -> bool {
        self.state().lost.is_none()
    }

    /// Up to `limit` rows with ids above `after` (rows at or below it are dropped: the worker
    /// has had them, from here or from the store).
    pub fn take(&self, after: i64, limit: usize) -> Taken {
        let mut state = self.state();
        match state.lost {
            Some(Loss::Overflow) => return Taken::Behind,
            Some(Loss::Requeued) => return Taken::Rescan,
            None => {}
        }
        while let Some(row) = state.rows.pop_front() {
            if row.id > after {
                state.rows.push_front(row);
                break;
            }
            state.bytes = state.bytes.saturating_sub(row.bytes());
        }
        if state.rows.is_empty() {
            return Taken::Empty;
        }
        let n = state.rows.len().min(limit);
        let rows: Vec<Head> = state.rows.drain(..n).collect();
        let taken = rows.iter().map(Head::bytes).fold(0, usize::saturating_add);
        state.bytes = state.bytes.saturating_sub(taken);
        Taken::Rows(rows)
    }
}

impl State {
    fn clear(&mut self) {
        self.rows.clear();
        self.bytes = 0;
    }
}

/// The feeds of the outputs whose workers asked for one, by output name.
#[derive(Debug, Default)]
pub(super) struct Feeds {
    feeds: Mutex<HashMap<String, Arc<Feed>>>,
}

impl Feeds {
    fn feeds(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Feed>>> {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The feed of `output`, created on first use.
    pub(super) fn get(&self, output: &str) -> Arc<Feed> {
        Arc::clone(self.feeds().entry(output.to_owned()).or_default())
    }

    /// Hands committed rows to their outputs' feeds (rows of outputs without a worker are
    /// left to the store).
    pub(super) fn push(&self, rows: FeedRows) {
        if rows.is_empty() {
            return;
        }
        let feeds = self.feeds();
        for (output, row) in rows {
            if let Some(feed) = feeds.get(&output) {
                feed.push(row);
            }
        }
    }

    /// Every worker reads the store next (rows were made pending outside the feeds).
    pub(super) fn invalidate_all(&self) {
        for feed in self.feeds().values() {
            feed.invalidate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Request;

    fn row(id: i64) -> Head {
        Head {
            id,
            message_id: format!("m{id}"),
            attempts: 0,
            created_at: 0,
            sent_at: 0,
            next_attempt_at: 0,
            request: Request::Gone,
        }
    }

    fn ids(taken: Taken) -> Vec<i64> {
        match taken {
            Taken::Rows(rows) => rows.iter().map(|r| r.id).collect(),
            other => panic!("expected rows, got {other:?}"),
        }
    }

    #[test]
    fn rows_come_out_in_order_in_batches_skipping_what_the_worker_has_had() {
        let feed = Feed::default();
        for id in 1..=10 {
            feed.push(Some(row(id)));
        }
        assert_eq!(ids(feed.take(3, 4)), [4, 5, 6, 7]);
        assert_eq!(ids(feed.take(7, 100)), [8, 9, 10]);
        assert!(matches!(feed.take(10, 100), Taken::Empty));
        feed.push(Some(row(11)));
        assert!(matches!(feed.take(11, 100), Taken::Empty), "already had");
    }

    #[test]
    fn losses_are_reported_until_marked_and_marking_starts_afresh() {
        let feed = Feed::default();
        for id in 1..=i64::try_from(FEED_CAPACITY).unwrap() + 1 {
            feed.push(Some(row(id)));
        }
        assert!(!feed.intact());
        assert!(matches!(feed.take(0, 10), Taken::Behind));
        feed.invalidate();
        assert!(
            matches!(feed.take(0, 10), Taken::Rescan),
            "a requeue outranks an overflow"
        );
        feed.mark();
        assert!(feed.intact());
        assert!(
            matches!(feed.take(0, 10), Taken::Empty),
            "rows from before the read are the read's to find"
        );
        let next = i64::try_from(FEED_CAPACITY).unwrap() + 2;
        feed.push(Some(row(next)));
        assert_eq!(ids(feed.take(0, 10)), [next]);
    }

    #[test]
    fn rows_of_outputs_without_a_worker_are_left_to_the_store_and_invalidation_reaches_all() {
        let feeds = Feeds::default();
        let raw = feeds.get("raw");
        feeds.push(vec![
            ("raw".into(), Some(row(1))),
            ("discord".into(), Some(row(2))),
        ]);
        assert_eq!(ids(raw.take(0, 10)), [1]);
        assert!(matches!(feeds.get("discord").take(0, 10), Taken::Empty));
        feeds.invalidate_all();
        assert!(matches!(raw.take(0, 10), Taken::Rescan));
        assert!(matches!(feeds.get("discord").take(0, 10), Taken::Rescan));
    }

    /// The review's case: signed 1 MiB bodies behind a stalled output held 1,024 parsed events
    /// (RSS 801 MB). The feed stops at its byte bound and sends the worker to the store.
    #[test]
    fn large_bodies_fill_the_feed_by_bytes_long_before_its_row_count() {
        let feed = Feed::default();
        let big = |id: i64| Head {
            request: Request::Rendered {
                headers: Vec::new(),
                body: vec![b'x'; 1024 * 1024].into(),
                batch_line: None,
            },
            ..row(id)
        };
        let fit = FEED_MAX_BYTES / big(0).bytes();
        assert_eq!(fit, 7, "8 MiB holds seven 1 MiB rows with their overhead");
        for id in 1..=i64::try_from(fit).unwrap() {
            feed.push(Some(big(id)));
        }
        assert!(feed.intact());
        assert!(feed.bytes() <= FEED_MAX_BYTES);
        assert_eq!(ids(feed.take(0, 2)), [1, 2]);
        assert_eq!(feed.bytes(), (fit - 2) * big(0).bytes(), "taking frees");
        feed.push(Some(big(8)));
        feed.push(Some(big(9)));
        feed.push(Some(big(10)));
        assert!(!feed.intact(), "the byte bound overflowed it");
        assert_eq!(feed.bytes(), 0, "and it let go of everything");
        assert!(matches!(feed.take(2, 10), Taken::Behind));
        feed.mark();
        feed.push(Some(big(11)));
        assert_eq!(ids(feed.take(10, 10)), [11]);
        assert_eq!(feed.bytes(), 0);
    }

    #[test]
    fn a_row_committed_without_its_event_sends_the_worker_to_the_store() {
        let feed = Feed::default();
        feed.push(Some(row(1)));
        feed.push(None);
        feed.push(Some(row(3)));
        assert!(!feed.intact());
        assert!(
            matches!(feed.take(0, 10), Taken::Behind),
            "row 2 is only in the store"
        );
    }
}
