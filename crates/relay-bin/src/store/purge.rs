//! Retention SQL of the inbox and outbox (PostgreSQL; SQLite purges its log in
//! `sqlite/operator.rs`).

/// Deletes inbox rows received before `$1` that no unfinished delivery needs: an event stays
/// while a delivery of it may still be sent (pending, or dead or skipped and replayable),
/// since the worker renders each request from the inbox row when it sends.
pub(super) const INBOX: &str = "DELETE FROM inbox WHERE received_at < $1 AND NOT EXISTS \
     (SELECT 1 FROM outbox o WHERE o.message_id = inbox.message_id AND o.status IN ('pending', 'dead', 'skipped'))";
