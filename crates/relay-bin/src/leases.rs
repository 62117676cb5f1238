//! Singleton work across replicas: each output's worker, the retention purge and the
//! subscription reconciler run on one replica at a time, by leases in the store. A replica
//! renews what it holds and tries to take what nobody renews; a replica that dies (or loses
//! the database) stops renewing, and another takes its work over within [`TTL`] + [`RENEW`].
//! On SQLite the one serving process holds every lease.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use crate::{
    lease::{Lease, MARGIN, RENEW, TTL},
    relay::Relay,
};

/// Renews or takes every lease once; returns the leases newly taken.
pub async fn renew_all(relay: &Relay) -> Vec<&Lease> {
    let mut taken = Vec::new();
    for lease in relay.leases() {
        let started = Instant::now();
        match relay.store.try_lease(&lease.name, &relay.holder, TTL).await {
            Ok(true) => {
                if let Ok(mut until) = lease.valid_until.lock() {
                    *until = Some(started + TTL.saturating_sub(MARGIN));
                }
                if !lease.held.swap(true, Ordering::AcqRel) {
                    tracing::info!(lease = %lease.name, holder = %relay.holder, "lease taken: this replica runs it now");
                    taken.push(lease);
                }
            }
            Ok(false) => give_up(lease, "another replica holds it"),
            Err(err) => {
                // Keep working until the lease could lapse: the database may come back first.
                let lapsed = lease
                    .valid_until
                    .lock()
                    .ok()
                    .and_then(|until| *until)
                    .is_none_or(|until| Instant::now() >= until);
                if lease.is_held() {
                    tracing::warn!(lease = %lease.name, error = %format!("{err:#}"), "cannot renew a lease; will try again");
                } else {
                    tracing::debug!(lease = %lease.name, error = %format!("{err:#}"), "cannot take a lease; will try again");
                }
                if lapsed {
                    give_up(lease, "cannot renew it (database unreachable)");
                }
            }
        }
    }
    taken
}

fn give_up(lease: &Lease, why: &str) {
    if let Ok(mut until) = lease.valid_until.lock() {
        *until = None;
    }
    if lease.held.swap(false, Ordering::AcqRel) {
        tracing::warn!(lease = %lease.name, why, "lease lost: this replica stops running it");
    }
}

/// Keeps the leases until shutdown, waking an output's worker when its lease is taken; then
/// releases what it holds so another replica takes over at once.
pub async fn keep(relay: Arc<Relay>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(RENEW) => {}
            () = relay.stopping.cancelled() => break,
        }
        for lease in renew_all(&relay).await {
            relay.wake_holder_of(&lease.name);
        }
    }
}

/// Gives up every lease held (at shutdown, after the workers stopped).
pub async fn release_all(relay: &Relay) {
    for lease in relay.leases() {
        if lease.held.swap(false, Ordering::AcqRel)
            && let Err(err) = relay.store.release_lease(&lease.name, &relay.holder).await
        {
            tracing::warn!(lease = %lease.name, error = %format!("{err:#}"), "cannot release a lease; it lapses by itself");
        }
    }
}

/// Wakes the workers of outputs the database announces new rows for (another replica's
/// ingest, a replay) until shutdown. Only on backends that announce (PostgreSQL).
pub async fn wake_on_announcements(relay: Arc<Relay>) {
    let Some(mut announcements) = relay.store.announcements() else {
        return;
    };
    loop {
        let name = tokio::select! {
            received = announcements.recv() => received,
            () = relay.stopping.cancelled() => return,
        };
        match name {
            Ok(name) if name != "*" => {
                if let Some(output) = relay.outputs.iter().find(|o| o.sink.name() == name) {
                    output.wake.notify_one();
                }
            }
            // "*" (notifications may have been missed) or a lagging receiver: wake everyone.
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                for output in &relay.outputs {
                    output.wake.notify_one();
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
