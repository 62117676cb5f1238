//! When to write the log line about a delivery Kick sent late: at once for the first one, then
//! at most one line every [`LateLog::EVERY_MS`], folding in the ones between.
//!
//! After an outage Kick replays its backlog, every event of it late: one line per event would
//! write thousands of lines a second (and cost more CPU than the delivery's commit). The
//! folded ones are not lost from view: `kick_relay_late_deliveries_total` and the delivery-age
//! histogram count every one, and the next line says how many it stands for.

use std::sync::Mutex;

/// The late deliveries not logged since the last line, reported by the line written now.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    /// How many late deliveries came since the last line and were not logged.
    pub count: u64,
    /// The oldest of them (seconds after its timestamp); 0 when `count` is 0.
    pub oldest_secs: u64,
}

/// The gate of the late-delivery log line (one per relay).
#[derive(Debug, Default)]
pub struct LateLog {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When the last line was written (Unix ms), if one was.
    last_line_ms: Option<i64>,
    /// The late deliveries since that line.
    folded: Folded,
}

impl LateLog {
    /// The shortest time between two lines.
    pub const EVERY_MS: i64 = 10_000;

    /// Notes a late delivery `age_secs` old at `now_ms`: `Some` when a line is to be written
    /// for it now (with the ones folded since the last line), `None` when it is folded into
    /// the next line.
    pub fn note(&self, now_ms: i64, age_secs: u64) -> Option<Folded> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = state
            .last_line_ms
            .is_none_or(|last| now_ms.saturating_sub(last) >= Self::EVERY_MS || now_ms < last);
        if !due {
            state.folded.count += 1;
            state.folded.oldest_secs = state.folded.oldest_secs.max(age_secs);
            return None;
        }
        state.last_line_ms = Some(now_ms);
        Some(std::mem::take(&mut state.folded))
    }
}

#[cfg(test)]
mod tests {
    use super::{Folded, LateLog};

    #[test]
    fn the_first_is_logged_then_one_line_per_period_counts_the_rest() {
        let log = LateLog::default();
        let t0 = 1_700_000_000_000;
        assert_eq!(
            log.note(t0, 700),
            Some(Folded {
                count: 0,
                oldest_secs: 0
            })
        );
        assert_eq!(log.note(t0 + 1, 900), None);
        assert_eq!(log.note(t0 + 5_000, 3_600), None);
        assert_eq!(log.note(t0 + LateLog::EVERY_MS - 1, 800), None);
        assert_eq!(
            log.note(t0 + LateLog::EVERY_MS, 650),
            Some(Folded {
                count: 3,
                oldest_secs: 3_600
            })
        );
        // A quiet period, then one: logged at once, standing for nothing else.
        assert_eq!(
            log.note(t0 + 60_000, 620),
            Some(Folded {
                count: 0,
                oldest_secs: 0
            })
        );
    }

    #[test]
    fn a_clock_set_back_does_not_silence_the_log() {
        let log = LateLog::default();
        let t0 = 1_700_000_000_000;
        assert!(log.note(t0, 700).is_some());
        assert_eq!(
            log.note(t0 - 3_600_000, 700),
            Some(Folded {
                count: 0,
                oldest_secs: 0
            })
        );
    }
}
