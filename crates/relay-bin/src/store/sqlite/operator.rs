//! An operator's writes (replay, enable), made on the write connection directly: they are rare
//! and may run in another process (the CLI) beside a serving relay.

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::counts::{self, Counts};
use crate::store::Replayed;

/// Counts the requeues of every process in `meta` (`requeues`): a serving relay's workers,
/// taking new rows from their feeds, read the store again when it changes.
const COUNT_REQUEUE: &str = "INSERT INTO meta (key, value) VALUES ('requeues', '1') \
     ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1";

/// The requeues counted so far (0 before the first).
pub(super) const REQUEUES: &str =
    "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'requeues'), 0)";

/// Marks the rows `which` names pending again, with a line in each one's history, moves
/// them to `pending` in the outbox's counts and counts the requeue; how many.
pub(super) async fn requeue(write: &SqlitePool, which: &Replayed, now: i64) -> anyhow::Result<u64> {
    let mut tx = write.begin().await?;
    let mut history = QueryBuilder::<Sqlite>::new(
        "INSERT INTO attempt (outbox_id, at, status, error) SELECT id, ",
    );
    history.push_bind(now);
    history.push(", 'pending', 'replayed by an operator' FROM outbox");
    which.push_where(&mut history);
    history.build().execute(&mut *tx).await?;
    // Counted after the first write, under the write lock: the statuses cannot change before
    // the update (a transaction that began with a read could not take the lock after a
    // commit of the relay's writer).
    let mut counted =
        QueryBuilder::<Sqlite>::new("SELECT output, status, COUNT(*) AS n FROM outbox");
    which.push_where(&mut counted);
    counted.push(" GROUP BY output, status");
    let mut counts = Counts::default();
    for row in counted.build().fetch_all(&mut *tx).await? {
        counts.moved(
            row.get("output"),
            row.get("status"),
            "pending",
            row.get("n"),
        );
    }
    let mut update = QueryBuilder::<Sqlite>::new(
        "UPDATE outbox SET status = 'pending', attempts = 0, finished_at = NULL, last_error = 'replayed', next_attempt_at = ",
    );
    update.push_bind(now);
    which.push_where(&mut update);
    let queued = update.build().execute(&mut *tx).await?.rows_affected();
    sqlx::query(COUNT_REQUEUE).execute(&mut *tx).await?;
    for (output, status, n) in counts.changes() {
        sqlx::query(counts::ADD)
            .bind(output)
            .bind(status)
            .bind(n)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(queued)
}

/// Enables an output again.
pub(super) async fn enable_output(write: &SqlitePool, name: &str, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, 0, '', ?2)
         ON CONFLICT(name) DO UPDATE SET disabled = 0, reason = '', changed_at = excluded.changed_at",
    )
    .bind(name)
    .bind(now)
    .execute(write)
    .await?;
    Ok(())
}
