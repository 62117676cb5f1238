//! An operator's writes (replay, enable), made on the write connection directly: they are rare
//! and may run in another process (the CLI) beside a serving relay.

use super::{Status, Store};

impl Store {
    /// Queues one finished delivery again; whether there was one to queue.
    ///
    /// # Errors
    /// A write failure.
    pub async fn replay_one(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO attempt (outbox_id, at, status, error)
             SELECT id, ?1, 'pending', 'replayed by an operator' FROM outbox WHERE id = ?2 AND status IN ('dead', 'skipped', 'expired')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let queued = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, finished_at = NULL, last_error = 'replayed'
             WHERE id = ?2 AND status IN ('dead', 'skipped', 'expired')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(queued)
    }

    /// Queues finished deliveries of `output` with `status`, created in `[since, until)`, again.
    ///
    /// # Errors
    /// A write failure.
    pub async fn replay(
        &self,
        output: &str,
        status: Status,
        since: Option<i64>,
        until: Option<i64>,
        now: i64,
    ) -> anyhow::Result<u64> {
        anyhow::ensure!(
            status != Status::Pending,
            "pending deliveries are already queued"
        );
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO attempt (outbox_id, at, status, error)
             SELECT id, ?1, 'pending', 'replayed by an operator' FROM outbox
             WHERE output = ?2 AND status = ?3 AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)",
        )
        .bind(now)
        .bind(output)
        .bind(status.as_str())
        .bind(since)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        let queued = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1, finished_at = NULL, last_error = 'replayed'
             WHERE output = ?2 AND status = ?3 AND (?4 IS NULL OR created_at >= ?4) AND (?5 IS NULL OR created_at < ?5)",
        )
        .bind(now)
        .bind(output)
        .bind(status.as_str())
        .bind(since)
        .bind(until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(queued)
    }

    /// Enables an output again (operator command; [`Store::disable_output`] disables).
    ///
    /// # Errors
    /// A write failure.
    pub async fn enable_output(&self, name: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?1, 0, '', ?2)
             ON CONFLICT(name) DO UPDATE SET disabled = 0, reason = '', changed_at = excluded.changed_at",
        )
        .bind(name)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
