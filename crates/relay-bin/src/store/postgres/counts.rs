//! The delivery counts on PostgreSQL (`delivery_count`), changed by every write in its own
//! transaction. Each kind of writer keeps rows of its own (`writer`), summed when read: an
//! accept adding a pending delivery and an outcome settling one never wait for the same row.

/// Who changes a count row.
#[derive(Clone, Copy, Debug)]
pub(super) enum Writer {
    /// Accepts (any replica, under the log lock).
    Accept,
    /// Send outcomes (the output's lease holder).
    Settle,
    /// Disable, replay, purge.
    Operator,
}

impl Writer {
    fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Settle => "settle",
            Self::Operator => "operator",
        }
    }
}

use sqlx::{Postgres, Transaction};

use crate::store::counts::Counts;

/// Applies a transaction's changes to `writer`'s count rows, in (output, status) order.
pub(super) async fn add(
    tx: &mut Transaction<'_, Postgres>,
    counts: &Counts,
    writer: Writer,
) -> anyhow::Result<()> {
    let mut changes: Vec<(&str, &str, i64)> = counts.changes().collect();
    if changes.is_empty() {
        return Ok(());
    }
    changes.sort_unstable();
    sqlx::query(
        "INSERT INTO delivery_count (output, status, writer, n)
         SELECT v.output, v.status, $4, v.n FROM unnest($1::text[], $2::text[], $3::int8[]) AS v(output, status, n)
         ON CONFLICT (output, status, writer) DO UPDATE SET n = delivery_count.n + EXCLUDED.n",
    )
    .bind(changes.iter().map(|c| c.0).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| c.1).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| c.2).collect::<Vec<_>>())
    .bind(writer.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
