//! The duplicate decision of a group of accepts.

use super::*;
use crate::store::DedupScope;

fn row(subscription: Option<&str>, received_at: i64, scope: DedupScope) -> InboxRow {
    InboxRow {
        message_id: "new".into(),
        dedup_key: Some("body:k".into()),
        dedup_window_ms: 30_000,
        dedup_scope: scope,
        received_at,
        event_type: "channel.followed".into(),
        version: "1".into(),
        subscription_id: subscription.map(str::to_owned),
        timestamp: String::new(),
        signature: String::new(),
        body: bytes::Bytes::new(),
        parse_error: None,
    }
}

fn seen(rows: &[(Option<&str>, i64)]) -> HashMap<String, Vec<(Option<String>, i64)>> {
    HashMap::from([(
        "body:k".to_owned(),
        rows.iter()
            .map(|(s, at)| (s.map(str::to_owned), *at))
            .collect(),
    )])
}

#[test]
fn a_copy_from_another_subscription_inside_the_window_is_a_duplicate() {
    let scope = DedupScope::OtherSubscription;
    let earlier = seen(&[(Some("A"), 100_000)]);
    assert!(is_copy(&row(Some("B"), 100_500, scope), &earlier));
    assert!(is_copy(&row(Some("B"), 130_000, scope), &earlier));
    assert!(
        !is_copy(&row(Some("B"), 130_001, scope), &earlier),
        "window ended"
    );
}

#[test]
fn a_repeat_from_the_same_subscription_or_without_one_is_new() {
    let scope = DedupScope::OtherSubscription;
    assert!(!is_copy(
        &row(Some("A"), 100_001, scope),
        &seen(&[(Some("A"), 100_000)])
    ));
    assert!(!is_copy(
        &row(None, 100_001, scope),
        &seen(&[(Some("A"), 100_000)])
    ));
    assert!(!is_copy(
        &row(Some("A"), 100_001, scope),
        &seen(&[(None, 100_000)])
    ));
    // Another subscription's row elsewhere in the list still counts.
    assert!(is_copy(
        &row(Some("A"), 100_001, scope),
        &seen(&[(Some("A"), 100_000), (Some("B"), 99_000)])
    ));
}

#[test]
fn a_chat_message_id_matches_whoever_sent_it() {
    let earlier = seen(&[(Some("A"), 100_000)]);
    assert!(is_copy(&row(Some("A"), 110_000, DedupScope::Any), &earlier));
    assert!(!is_copy(
        &row(Some("A"), 110_000, DedupScope::Any),
        &HashMap::new()
    ));
}

#[test]
fn a_group_decides_in_order_against_the_table_and_itself() {
    let job = |id: &str, subscription: &str, at: i64| -> Job {
        let mut inbox = row(Some(subscription), at, DedupScope::OtherSubscription);
        inbox.message_id = id.into();
        (inbox, Vec::new())
    };
    let jobs = [
        job("stored", "A", 1_000),
        job("m1", "A", 1_000),
        job("m1", "A", 1_001),
        job("m2", "B", 1_002),
        job("m3", "A", 1_003),
    ];
    let refs: Vec<&Job> = jobs.iter().collect();
    let known = Known {
        ids: HashSet::from(["stored".to_owned()]),
        keys: SeenKeys::new(),
    };
    let (results, fresh) = decide(&refs, known);
    assert_eq!(
        results,
        [
            Accepted::Duplicate, // in the table
            Accepted::New(0),
            Accepted::Duplicate, // same id earlier in the group
            Accepted::Duplicate, // m1's copy from another subscription
            Accepted::New(0),    // a repeat from m1's own subscription
        ]
    );
    let ids: Vec<&str> = fresh.iter().map(|j| j.0.message_id.as_str()).collect();
    assert_eq!(ids, ["m1", "m3"]);
}
