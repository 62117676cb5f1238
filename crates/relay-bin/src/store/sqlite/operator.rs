//! An operator's writes (replay, enable), made on the write connection directly: they are rare
//! and may run in another process (the CLI) beside a serving relay.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::store::Replayed;

/// Marks the rows `which` names pending again, with a line in each one's history; how many.
pub(super) async fn requeue(write: &SqlitePool, which: &Replayed, now: i64) -> anyhow::Result<u64> {
    let mut tx = write.begin().await?;
    let mut history = QueryBuilder::<Sqlite>::new(
        "INSERT INTO attempt (outbox_id, at, status, error) SELECT id, ",
    );
    history.push_bind(now);
    history.push(", 'pending', 'replayed by an operator' FROM outbox");
    which.push_where(&mut history);
    history.build().execute(&mut *tx).await?;
    let mut update = QueryBuilder::<Sqlite>::new(
        "UPDATE outbox SET status = 'pending', attempts = 0, finished_at = NULL, last_error = 'replayed', next_attempt_at = ",
    );
    update.push_bind(now);
    which.push_where(&mut update);
    let queued = update.build().execute(&mut *tx).await?.rows_affected();
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
