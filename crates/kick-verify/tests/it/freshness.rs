//! The timestamp window: parsing every RFC 3339 shape Kick uses, stale, future, saturation.

use std::time::Duration;

use kick_verify::{FreshnessError, Window, check_freshness, parse_timestamp};

const NOW: i64 = 1_740_180_216; // 2025-02-21T23:23:36Z
const TEN_MINUTES: Duration = Duration::from_mins(10);

#[test]
fn every_precision_and_offset_parses_to_the_same_instant() {
    for text in [
        "2025-02-21T23:23:36Z",
        "2025-02-21T23:23:36.634Z",
        "2025-02-21T23:23:36.191347293Z",
        "2025-02-22T10:23:36+11:00",
        "2025-02-21T18:23:36.5-05:00",
    ] {
        assert_eq!(parse_timestamp(text), Ok(NOW), "{text}");
    }
}

#[test]
fn inside_the_window_passes_both_ways() {
    assert_eq!(
        check_freshness("2025-02-21T23:23:36Z", NOW, TEN_MINUTES),
        Ok(())
    );
    assert_eq!(
        check_freshness("2025-02-21T23:13:36Z", NOW, TEN_MINUTES),
        Ok(())
    );
    assert_eq!(
        check_freshness("2025-02-21T23:33:36Z", NOW, TEN_MINUTES),
        Ok(())
    );
}

#[test]
fn stale_is_refused_with_its_age() {
    assert_eq!(
        check_freshness("2025-02-21T23:13:35Z", NOW, TEN_MINUTES),
        Err(FreshnessError::TooOld {
            age_secs: 601,
            max_secs: 600
        })
    );
}

#[test]
fn future_is_refused_with_its_lead() {
    let err = check_freshness("2025-02-21T23:33:37Z", NOW, TEN_MINUTES).unwrap_err();
    assert_eq!(
        err,
        FreshnessError::InFuture {
            ahead_secs: 601,
            max_secs: 600
        }
    );
    assert!(err.to_string().contains("clock"), "{err}");
}

#[test]
fn zero_tolerance_accepts_only_the_same_second() {
    assert_eq!(
        check_freshness("2025-02-21T23:23:36.999Z", NOW, Duration::ZERO),
        Ok(())
    );
    assert!(check_freshness("2025-02-21T23:23:37Z", NOW, Duration::ZERO).is_err());
}

#[test]
fn unparseable_timestamps_are_refused() {
    for text in [
        "",
        "yesterday",
        "2025-02-21",
        "1740180216",
        "2025-13-01T00:00:00Z",
        "2025-02-21T23:23:36",
    ] {
        assert_eq!(
            check_freshness(text, NOW, TEN_MINUTES),
            Err(FreshnessError::Unparseable),
            "{text:?}"
        );
    }
}

#[test]
fn extreme_clocks_and_tolerances_do_not_overflow() {
    assert!(matches!(
        check_freshness("2025-02-21T23:23:36Z", i64::MIN, TEN_MINUTES),
        Err(FreshnessError::InFuture { .. })
    ));
    assert!(matches!(
        check_freshness("2025-02-21T23:23:36Z", i64::MAX, TEN_MINUTES),
        Err(FreshnessError::TooOld { .. })
    ));
    assert_eq!(
        check_freshness("0001-01-01T00:00:00Z", NOW, Duration::MAX),
        Ok(())
    );
}

#[test]
fn a_window_may_reach_further_back_than_ahead() {
    let window = Window::new(Duration::from_hours(23), Duration::from_mins(5));
    assert_eq!(window.check(NOW - 2 * 3600, NOW), Ok(7200));
    assert_eq!(window.check(NOW + 300, NOW), Ok(0));
    let old = window.check(NOW - 23 * 3600 - 1, NOW).unwrap_err();
    assert_eq!(
        old,
        FreshnessError::TooOld {
            age_secs: 82_801,
            max_secs: 82_800
        }
    );
    assert!(
        old.to_string()
            .contains("1 s more than the 82800 s allowed"),
        "{old}"
    );
    let ahead = window.check(NOW + 301, NOW).unwrap_err();
    assert_eq!(
        ahead,
        FreshnessError::InFuture {
            ahead_secs: 301,
            max_secs: 300
        }
    );
    assert!(ahead.to_string().contains("check the clock"), "{ahead}");
    assert!(
        Window::new(Duration::MAX, Duration::ZERO)
            .check(i64::MIN, i64::MAX)
            .is_ok()
    );
}
