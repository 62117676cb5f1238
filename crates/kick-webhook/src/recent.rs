//! The message ids seen lately, bounded: Kick redelivers a message it thinks failed, with the
//! same `Kick-Event-Message-Id`, so a receiver drops repeats of the ids it has seen.

use std::collections::{HashSet, VecDeque};

/// What the memory says of a message id.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Seen {
    /// Not seen: recorded now.
    New,
    /// Seen before: a repeat.
    Repeat,
    /// Its timestamp is no newer than one of an id already forgotten to make room, so a
    /// repeat of it could not be told apart: neither recorded nor to be taken.
    BeyondMemory {
        /// The newest timestamp (Unix seconds) among the forgotten ids.
        forgotten_up_to: i64,
    },
}

/// The last `capacity` message ids with their timestamps, oldest forgotten first, and how far
/// the forgotten ones reached.
#[derive(Debug)]
pub(crate) struct RecentIds {
    capacity: usize,
    set: HashSet<String>,
    order: VecDeque<(String, i64)>,
    /// The newest timestamp of an id forgotten to make room (`None`: nothing forgotten yet).
    forgotten_up_to: Option<i64>,
}

impl RecentIds {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            set: HashSet::with_capacity(capacity.min(65_536)),
            order: VecDeque::with_capacity(capacity.min(65_536)),
            forgotten_up_to: None,
        }
    }

    /// Looks up `id` (signed with timestamp `at`, Unix seconds) and records it when new.
    ///
    /// A delivery keeps its signed timestamp when Kick sends it again, so an id timestamped
    /// after every forgotten one would still be here if it had been seen: it is new or a
    /// repeat for sure. One timestamped no later than a forgotten id may have been forgotten
    /// itself; it is [`Seen::BeyondMemory`]. With capacity 0 every id is new.
    pub(crate) fn insert(&mut self, id: &str, at: i64) -> Seen {
        if self.capacity == 0 {
            return Seen::New;
        }
        if self.set.contains(id) {
            return Seen::Repeat;
        }
        if let Some(forgotten_up_to) = self.forgotten_up_to
            && at <= forgotten_up_to
        {
            return Seen::BeyondMemory { forgotten_up_to };
        }
        if self.order.len() == self.capacity
            && let Some((oldest, oldest_at)) = self.order.pop_front()
        {
            self.set.remove(&oldest);
            self.forgotten_up_to =
                Some(self.forgotten_up_to.map_or(oldest_at, |f| f.max(oldest_at)));
        }
        self.set.insert(id.to_owned());
        self.order.push_back((id.to_owned(), at));
        Seen::New
    }
}

#[cfg(test)]
mod tests {
    use super::{RecentIds, Seen};

    #[test]
    fn repeats_are_caught_and_forgotten_ids_are_not_taken_again() {
        let mut recent = RecentIds::new(2);
        assert_eq!(recent.insert("a", 10), Seen::New);
        assert_eq!(recent.insert("a", 10), Seen::Repeat);
        assert_eq!(recent.insert("b", 20), Seen::New);
        assert_eq!(recent.insert("c", 30), Seen::New, "a is forgotten now");
        assert_eq!(
            recent.insert("a", 10),
            Seen::BeyondMemory {
                forgotten_up_to: 10
            },
            "a repeat of a forgotten id is not taken as new"
        );
        assert_eq!(
            recent.insert("z", 5),
            Seen::BeyondMemory {
                forgotten_up_to: 10
            },
            "nor is any id as old as it"
        );
        assert_eq!(recent.insert("d", 11), Seen::New, "newer ids still are");
        assert_eq!(recent.insert("c", 30), Seen::Repeat);
        let mut off = RecentIds::new(0);
        assert_eq!(off.insert("a", 1), Seen::New);
        assert_eq!(off.insert("a", 1), Seen::New);
    }

    #[test]
    fn the_forgotten_bound_only_grows() {
        let mut recent = RecentIds::new(1);
        assert_eq!(recent.insert("late", 100), Seen::New);
        assert_eq!(recent.insert("later", 200), Seen::New);
        // "late" (100) was forgotten; "later" goes next, and the bound becomes 200.
        assert_eq!(recent.insert("next", 300), Seen::New);
        assert_eq!(
            recent.insert("x", 150),
            Seen::BeyondMemory {
                forgotten_up_to: 200
            }
        );
    }
}
