//! The duplicate decision for a group of accepts, shared by both backends: a backend reads
//! which message ids and second keys its tables already hold, this decides, in the group's
//! order, which deliveries are new.

use std::collections::{HashMap, HashSet};

use super::{Accepted, InboxRow, NewDelivery};

/// One accept: the event row and its deliveries.
pub(super) type Job = (InboxRow, Vec<NewDelivery>);

/// Second key → (subscription, latest receipt) of the stored rows that carry it.
pub(super) type SeenKeys = HashMap<String, Vec<(Option<String>, i64)>>;

/// What the tables already hold for a group.
#[derive(Default)]
pub(super) struct Known {
    /// Message ids already stored.
    pub ids: HashSet<String>,
    /// Second keys already stored.
    pub keys: SeenKeys,
}

/// Decides each job of `jobs` in order (against `known` and the jobs before it); returns the
/// answers and the jobs to insert.
pub(super) fn decide<'a>(jobs: &[&'a Job], mut known: Known) -> (Vec<Accepted>, Vec<&'a Job>) {
    let mut results = Vec::with_capacity(jobs.len());
    let mut fresh = Vec::with_capacity(jobs.len());
    for &job in jobs {
        let inbox = &job.0;
        if known.ids.contains(&inbox.message_id) || is_copy(inbox, &known.keys) {
            results.push(Accepted::Duplicate);
            continue;
        }
        known.ids.insert(inbox.message_id.clone());
        if let Some(key) = &inbox.dedup_key {
            known
                .keys
                .entry(key.clone())
                .or_default()
                .push((inbox.subscription_id.clone(), inbox.received_at));
        }
        results.push(Accepted::New(job.1.len()));
        fresh.push(job);
    }
    (results, fresh)
}

/// Whether an earlier row carries `inbox`'s second key within its window and its scope.
pub(super) fn is_copy(inbox: &InboxRow, seen_keys: &SeenKeys) -> bool {
    let Some(rows) = inbox.dedup_key.as_ref().and_then(|k| seen_keys.get(k)) else {
        return false;
    };
    let since = inbox.received_at.saturating_sub(inbox.dedup_window_ms);
    rows.iter().any(|(subscription, latest)| {
        *latest >= since
            && inbox
                .dedup_scope
                .matches(inbox.subscription_id.as_deref(), subscription.as_deref())
    })
}

#[cfg(test)]
mod tests;
