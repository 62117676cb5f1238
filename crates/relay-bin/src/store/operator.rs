//! An operator's writes (replay, enable), made on the write connection directly: they are rare
//! and may run in another process (the CLI) beside a serving relay.

use sqlx::{QueryBuilder, Sqlite};

use super::{Status, Store};

/// Which finished rows a replay takes.
enum Replayed<'a> {
    /// One row, when it is dead, skipped or expired.
    One(i64),
    /// An output's rows of one status created in `[since, until)`.
    Range {
        output: &'a str,
        status: Status,
        since: Option<i64>,
        until: Option<i64>,
    },
}

impl Replayed<'_> {
    fn push_where(&self, query: &mut QueryBuilder<'_, Sqlite>) {
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
                query.push_bind(output.to_string());
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

impl Store {
    /// Queues one finished delivery again; whether there was one to queue.
    ///
    /// # Errors
    /// A write failure.
    pub async fn replay_one(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        Ok(self.requeue(&Replayed::One(id), now).await? == 1)
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
        let range = Replayed::Range {
            output,
            status,
            since,
            until,
        };
        self.requeue(&range, now).await
    }

    /// Marks the rows `which` names pending again, with a line in each one's history; how many.
    async fn requeue(&self, which: &Replayed<'_>, now: i64) -> anyhow::Result<u64> {
        let mut tx = self.write.begin().await?;
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
