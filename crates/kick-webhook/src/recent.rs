//! The message ids seen lately, bounded: Kick redelivers a message it thinks failed, with the
//! same `Kick-Event-Message-Id`, so a receiver drops repeats of the ids it has seen.

use std::collections::{HashSet, VecDeque};

/// The last `capacity` message ids, oldest forgotten first.
#[derive(Debug)]
pub(crate) struct RecentIds {
    capacity: usize,
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl RecentIds {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            set: HashSet::with_capacity(capacity.min(65_536)),
            order: VecDeque::with_capacity(capacity.min(65_536)),
        }
    }

    /// Records `id`; `false` when it was already there (a repeat).
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.set.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::RecentIds;

    #[test]
    fn repeats_are_caught_within_the_window_and_forgotten_after_it() {
        let mut recent = RecentIds::new(2);
        assert!(recent.insert("a"));
        assert!(!recent.insert("a"));
        assert!(recent.insert("b"));
        assert!(recent.insert("c"), "a is forgotten now");
        assert!(recent.insert("a"));
        assert!(!recent.insert("c"));
        let mut off = RecentIds::new(0);
        assert!(off.insert("a") && off.insert("a"));
    }
}
