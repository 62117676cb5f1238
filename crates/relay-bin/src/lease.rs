//! One lease this replica wants (an output's worker, the purge, the reconciler), its name and
//! timing: plain values, which `relay.rs` holds and `leases.rs` keeps renewed.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

/// How long a lease lasts without renewal (on the database's clock).
pub const TTL: Duration = Duration::from_secs(6);
/// How often a replica renews its leases and tries to take free ones.
pub const RENEW: Duration = Duration::from_millis(1500);
/// A holder stops working this long before its lease could lapse (its clock and the
/// database's may run slightly apart, and a renewal takes time).
pub(crate) const MARGIN: Duration = Duration::from_secs(1);

/// The lease of the retention purge.
pub const PURGE: &str = "purge";
/// The lease of the subscription reconciler.
pub const RECONCILER: &str = "reconciler";

/// One lease this replica wants, and whether it holds it.
#[derive(Debug)]
pub struct Lease {
    /// Its name in the store (`output:<name>`, `purge`, `reconciler`).
    pub name: String,
    /// Whether this replica holds it now.
    pub held: AtomicBool,
    /// Until when this replica may work under it (`None`: not held).
    pub(crate) valid_until: std::sync::Mutex<Option<Instant>>,
}

impl Lease {
    /// A lease not held yet.
    pub fn new(name: String) -> Self {
        Self {
            name,
            held: AtomicBool::new(false),
            valid_until: std::sync::Mutex::new(None),
        }
    }

    /// Whether this replica holds it now.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }
}

/// The name of output `name`'s lease.
pub fn output_lease(name: &str) -> String {
    format!("output:{name}")
}

/// A name for this replica: host, process id and a random part (a restarted process with
/// the same pid is another holder).
pub fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "host".into(), |h| h.trim().to_owned());
    let random = rsa::rand_core::RngCore::next_u32(&mut rsa::rand_core::OsRng);
    format!("{host}:{}:{random:08x}", std::process::id())
}
