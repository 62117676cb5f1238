//! Where a worker reads its next rows, and every way that changes: one value and one function,
//! so that the rules the worker's correctness rests on are written once and tested without I/O.
//!
//! The rules: a row at or before the position has been dealt with (sent, or recorded as
//! expired, skipped or dead) or is being sent; rows come from the output's feed only after a
//! read of the store found every pending row past the position while the feed lost nothing;
//! anything that may have put a pending row behind the position (a retry, an operator's
//! requeue, standing by while another replica sent) moves the position back so that the row is
//! read again.

/// Where the next rows come from.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Source {
    /// The store: the queue is read past the position.
    Store,
    /// The output's feed (rows the writer handed over after committing them): the worker is in
    /// step with the store.
    Feed,
}

/// The worker's read position: every pending row with a larger id is still to be read.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) struct Position {
    /// The id up to which rows have been dealt with (0: read from the queue's head).
    pub(super) after: i64,
    /// Where rows past it come from.
    pub(super) source: Source,
}

impl Position {
    /// A worker's first position: the store, from the queue's head.
    pub(super) const START: Self = Self {
        after: 0,
        source: Source::Store,
    };

    /// Whether the next rows come from the feed.
    pub(super) fn in_step(self) -> bool {
        self.source == Source::Feed
    }

    /// Whether the next read starts at the queue's head.
    pub(super) fn at_head(self) -> bool {
        self.after == 0
    }
}

/// What happened to the worker's read.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Event {
    /// The worker stands by: its output is disabled, another replica holds its lease, or the
    /// database is lost. Whoever sent meanwhile, it starts again from the queue's head.
    StoodBy,
    /// Read the store from the queue's head: an operator requeued rows, the periodic full read
    /// is due, or everything pending went out and the worker looks once more before idling.
    FromHead,
    /// The feed dropped rows the worker had not taken yet: read the store past the position.
    FellBehind,
    /// Rows up to this id were dealt with: sent (or being sent), or recorded as expired,
    /// skipped or dead.
    Passed(i64),
    /// This row will be retried: nothing after it may be sent before it.
    RetryFrom(i64),
    /// Rows the worker had were left unsent (it holds back, waits or stops): they are still
    /// pending in the store, not in the feed.
    LeftUnsent,
    /// An outcome asked to hold back (a retry, an open breaker, a receiver's rate limit):
    /// after the pause the next rows come from the store.
    HeldBack,
    /// Rows may have been made pending again behind the position (an operator's requeue), or
    /// the periodic full read is due: the next rows come from the store (from its head once
    /// what is in flight has settled).
    Requeued,
    /// A read found every pending row past the position, and the feed holds every row
    /// committed since that read began: take the next rows from the feed.
    CaughtUp,
}

/// The position after `event`.
pub(super) fn step(position: Position, event: Event) -> Position {
    match event {
        Event::StoodBy | Event::FromHead => Position::START,
        Event::FellBehind | Event::LeftUnsent | Event::HeldBack | Event::Requeued => Position {
            source: Source::Store,
            ..position
        },
        Event::Passed(id) => Position {
            after: position.after.max(id),
            ..position
        },
        Event::RetryFrom(id) => Position {
            after: position.after.min(id - 1),
            source: Source::Store,
        },
        Event::CaughtUp => Position {
            source: Source::Feed,
            ..position
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[Event]) -> Position {
        events.iter().fold(Position::START, |p, e| step(p, *e))
    }

    #[test]
    fn rows_dealt_with_move_the_position_forward_only() {
        assert_eq!(run(&[Event::Passed(5), Event::Passed(9)]).after, 9);
        assert_eq!(
            run(&[Event::Passed(9), Event::Passed(5)]).after,
            9,
            "an older id never moves the read back over rows already dealt with"
        );
    }

    #[test]
    fn a_retried_row_is_read_again_before_anything_after_it() {
        let sent = run(&[Event::CaughtUp, Event::Passed(12)]);
        assert!(sent.in_step());
        let retried = step(sent, Event::RetryFrom(10));
        assert_eq!(
            retried.after, 9,
            "row 10 is read again, and 11 and 12 after it"
        );
        assert!(
            !retried.in_step(),
            "from the store, where the retried row is"
        );
        assert_eq!(
            step(run(&[Event::Passed(3)]), Event::RetryFrom(10)).after,
            3,
            "a retry never skips rows not yet dealt with"
        );
    }

    #[test]
    fn the_feed_is_used_only_after_a_read_that_caught_up() {
        let mut position = Position::START;
        for event in [
            Event::Passed(4),
            Event::LeftUnsent,
            Event::HeldBack,
            Event::Requeued,
            Event::FellBehind,
            Event::RetryFrom(2),
            Event::FromHead,
            Event::StoodBy,
        ] {
            position = step(position, event);
            assert!(!position.in_step(), "{event:?}");
        }
        assert!(step(position, Event::CaughtUp).in_step());
        let in_step = run(&[Event::Passed(7), Event::CaughtUp]);
        assert_eq!(step(in_step, Event::Passed(8)).source, Source::Feed);
        let behind = step(in_step, Event::FellBehind);
        assert_eq!((behind.after, behind.source), (7, Source::Store));
    }

    #[test]
    fn standing_by_or_a_full_read_starts_from_the_queues_head() {
        let far = run(&[Event::Passed(100), Event::CaughtUp]);
        for event in [Event::StoodBy, Event::FromHead] {
            let position = step(far, event);
            assert!(position.at_head() && !position.in_step(), "{event:?}");
        }
    }
}
