//! What goes into the store and what comes out of it.

use std::{str::FromStr, sync::Arc};

use bytes::Bytes;
use kick_models::Delivery;

/// SQLite's `synchronous` setting (`storage.synchronous`).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// Every commit reaches the disk before the relay answers (durable against power loss).
    #[default]
    Full,
    /// Faster; a power loss may lose the last commits (a crash of the process does not).
    Normal,
}

/// A delivery row's state.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Status {
    /// Waiting to be sent (or retried).
    Pending,
    /// The output took it.
    Delivered,
    /// Permanent failure or retries exhausted; replayable.
    Dead,
    /// Not sent because the output is disabled; replayable.
    Skipped,
    /// Older than the output's `max_age_secs`.
    Expired,
}

impl Status {
    /// Every status, in the order a delivery meets them.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Delivered,
        Self::Dead,
        Self::Skipped,
        Self::Expired,
    ];

    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
            Self::Expired => "expired",
        }
    }
}

impl FromStr for Status {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "dead" => Self::Dead,
            "skipped" => Self::Skipped,
            "expired" => Self::Expired,
            other => anyhow::bail!(
                "unknown status {other:?}: use pending, delivered, dead, skipped or expired"
            ),
        })
    }
}

/// Which finished rows a replay queues again.
#[derive(Clone, Debug)]
pub enum Replayed {
    /// One row, when it is dead, skipped or expired.
    One(i64),
    /// An output's rows of one status created in `[since, until)`.
    Range {
        /// The output's name.
        output: String,
        /// Rows in this state.
        status: Status,
        /// Created at or after (Unix ms).
        since: Option<i64>,
        /// Created before (Unix ms).
        until: Option<i64>,
    },
}

impl Replayed {
    /// Appends the `WHERE` clause selecting these exception rows (PostgreSQL; SQLite builds its
    /// own in `sqlite/operator.rs`).
    pub(crate) fn push_where<'a>(&'a self, query: &mut sqlx::QueryBuilder<'a, sqlx::Postgres>) {
        match self {
            Self::One(id) => {
                query.push(" WHERE status IN ('dead', 'skipped', 'expired') AND id = ");
                query.push_bind(*id);
            }
            Self::Range {
                output,
                status,
                since,
                until,
            } => {
                query.push(" WHERE output = ");
                query.push_bind(output.as_str());
                query.push(" AND status = ");
                query.push_bind(status.as_str());
                if let Some(since) = since {
                    query.push(" AND created_at >= ");
                    query.push_bind(*since);
                }
                if let Some(until) = until {
                    query.push(" AND created_at < ");
                    query.push_bind(*until);
                }
            }
        }
    }
}

/// Which earlier events with the same second key make a delivery a duplicate.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum DedupScope {
    /// Any row in the window (a chat message id names one message, whoever sent it).
    Any,
    /// Only rows from another subscription (copies Kick sends once per duplicate
    /// subscription); a repeat from the same subscription, or without a subscription id, is new.
    OtherSubscription,
}

impl DedupScope {
    /// Whether a row of `earlier` subscription matches a delivery of `mine` under this scope.
    pub fn matches(self, mine: Option<&str>, earlier: Option<&str>) -> bool {
        match self {
            Self::Any => true,
            Self::OtherSubscription => matches!((mine, earlier), (Some(a), Some(b)) if a != b),
        }
    }
}

/// One accepted delivery to record.
#[derive(Debug)]
pub struct InboxRow {
    /// Kick's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// Second idempotency key (chat message id, or a hash of type, version and body).
    pub dedup_key: Option<String>,
    /// How far back a matching `dedup_key` makes this a duplicate, ms.
    pub dedup_window_ms: i64,
    /// Which earlier rows with the same `dedup_key` make this a duplicate.
    pub dedup_scope: DedupScope,
    /// When the relay received it (Unix ms).
    pub received_at: i64,
    /// `Kick-Event-Type`.
    pub event_type: String,
    /// `Kick-Event-Version`.
    pub version: String,
    /// `Kick-Event-Subscription-Id`, when sent.
    pub subscription_id: Option<String>,
    /// `Kick-Event-Message-Timestamp`, verbatim.
    pub timestamp: String,
    /// `Kick-Event-Signature`, verbatim (for forwarding).
    pub signature: String,
    /// The body bytes (shared with the received delivery, not copied).
    pub body: Bytes,
    /// Why the body did not parse, if it did not.
    pub parse_error: Option<String>,
}

/// One output's delivery of an accepted event. The request is not stored: the worker renders
/// it from the stored event when it sends (so nothing is rendered for a duplicate, and the
/// event's body is stored once whatever the number of outputs).
#[derive(Debug)]
pub struct NewDelivery {
    /// The output's name.
    pub output: String,
    /// Its state.
    pub status: Status,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
}

/// What became of an accept.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Accepted {
    /// Stored, for this many outputs.
    New(usize),
    /// The message id (or the second key) was seen before: nothing stored.
    Duplicate,
}

/// The outcome of one send, to record.
#[derive(Clone, Debug)]
pub struct Completion {
    /// Row id (also the queue order).
    pub id: i64,
    /// Its state.
    pub status: Status,
    /// Attempts made.
    pub attempts: i64,
    /// Not before this time (Unix ms).
    pub next_attempt_at: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
    /// When it reached a final state (Unix ms).
    pub finished_at: Option<i64>,
    /// When this outcome came about (Unix ms), for the delivery's history.
    pub at: i64,
}

impl Completion {
    /// Whether the delivery's history keeps this outcome. A delivery taken at the first try
    /// needs no history row: its cursor or its row says all (the admin page shows it as one attempt).
    pub fn is_history(&self) -> bool {
        !(self.status == Status::Delivered && self.attempts <= 1)
    }
}

/// One entry of a delivery's history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AttemptRow {
    /// When (Unix ms).
    pub at: i64,
    /// The delivery's state after it (`pending` for a retry).
    pub status: String,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// What went wrong, or why it was not sent.
    pub error: Option<String>,
}

/// Where an output stands, for the admin page.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct OutputOverview {
    /// Pending deliveries.
    pub pending: i64,
    /// Age of the oldest pending delivery (ms).
    pub oldest_pending_ms: Option<i64>,
    /// The newest error an attempt to send one of its deliveries met, and when (an
    /// operator's replay is history, not an error).
    pub last_error: Option<(String, i64)>,
}

/// A delivery with its history and the event it carries.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeliveryDetail {
    /// The outbox row.
    pub delivery: DeliveryRow,
    /// Its history, oldest first.
    pub attempts: Vec<AttemptRow>,
    /// When it finished (Unix ms).
    pub finished_at: Option<i64>,
    /// The event's `Kick-Event-Message-Timestamp`, when the inbox still has it.
    pub event_timestamp: Option<String>,
    /// The event's body as Kick sent it, when the inbox still has it.
    pub event_body: Option<String>,
}

/// Bytes of events one read of an output's queue returns at most (besides its row count):
/// 64 rows of Kick's few-KiB deliveries fit many times over; 64 signed 1 MiB bodies do not.
pub const READ_MAX_BYTES: usize = 8 * 1024 * 1024;

/// A pending delivery at the head of an output's queue.
#[derive(Clone, Debug)]
pub struct Head {
    /// Row id (also the queue order).
    pub id: i64,
    /// Kick's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// When Kick sent it (Unix ms): its `Kick-Event-Message-Timestamp`, or `created_at` when
    /// that is earlier or unknown ([`Head::sent_at`]). A late delivery's age counts from here.
    pub sent_at: i64,
    /// Not before this time (Unix ms).
    pub next_attempt_at: i64,
    /// What to send.
    pub request: Request,
}

impl Head {
    /// What the row costs in memory, counted high: its body, the event parsed from it (at
    /// most about as large again), and the row itself. Feeds and reads of the queue are
    /// bounded by it.
    pub fn bytes(&self) -> usize {
        const ROW: usize = 512;
        ROW + match &self.request {
            Request::Parsed(delivery) => delivery.body.len().saturating_mul(2),
            Request::Event(event) => event.body.len(),
            Request::Rendered { body, .. } => body.len(),
            Request::Gone => 0,
        }
    }

    /// Cuts `heads` (a read of the queue, in id order) after the row that reaches
    /// [`READ_MAX_BYTES`]: a worker holds at most that much of large events at once (the rest
    /// is read next time). The first row always stays.
    pub fn keep_within_bytes(heads: &mut Vec<Self>) {
        let mut total = 0_usize;
        let keep = heads
            .iter()
            .position(|head| {
                total = total.saturating_add(head.bytes());
                total >= READ_MAX_BYTES
            })
            .map_or(heads.len(), |last| last + 1);
        heads.truncate(keep);
    }

    /// When Kick sent a delivery queued at `created_at` whose `Kick-Event-Message-Timestamp`
    /// is `timestamp` (Unix ms): the earlier of the two, `created_at` when the timestamp is
    /// unknown or unreadable.
    pub fn sent_at(created_at: i64, timestamp: Option<&str>) -> i64 {
        timestamp
            .and_then(|t| kick_verify::parse_timestamp(t).ok())
            .map_or(created_at, |secs| created_at.min(secs.saturating_mul(1000)))
    }
}

/// What a queued delivery sends.
#[derive(Clone, Debug)]
pub enum Request {
    /// A request ready to send: rendered by the worker, or stored with the row by an older
    /// version of the relay.
    Rendered {
        /// Request headers.
        headers: Vec<(String, String)>,
        /// The body bytes (shared: a send or a retry copies none).
        body: Bytes,
        /// The line it contributes when several go out as one message (Discord chat).
        batch_line: Option<String>,
    },
    /// The event as stored in the inbox, to render for the output.
    Event(StoredEvent),
    /// The event as this process received and parsed it, to render for the output (a row
    /// handed over by the store's feed right after its commit).
    Parsed(Arc<Delivery>),
    /// Neither: the event is no longer in the inbox (an older row outlived its retention).
    Gone,
}

/// An event as the inbox keeps it: Kick's headers and body, verbatim.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    /// `Kick-Event-Type`.
    pub event_type: String,
    /// `Kick-Event-Version`.
    pub version: String,
    /// `Kick-Event-Subscription-Id`, when sent.
    pub subscription_id: Option<String>,
    /// `Kick-Event-Message-Timestamp`, verbatim.
    pub timestamp: String,
    /// `Kick-Event-Signature`, verbatim.
    pub signature: String,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// A delivery as listed by the CLI.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeliveryRow {
    /// Row id (also the queue order).
    pub id: i64,
    /// Kick's `Kick-Event-Message-Id`.
    pub message_id: String,
    /// The output's name.
    pub output: String,
    /// `Kick-Event-Type`.
    pub event_type: String,
    /// Its state.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Why the last attempt failed, or why it was not sent.
    pub last_error: Option<String>,
}

/// Counts for health and metrics.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Inbox rows.
    pub inbox: i64,
    /// Outbox rows by (output, status).
    pub by_status: Vec<(String, String, i64)>,
    /// Age of the oldest pending delivery, ms.
    pub oldest_pending_ms: Option<i64>,
}
