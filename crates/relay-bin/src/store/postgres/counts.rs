//! The delivery counts on PostgreSQL (`delivery_count`), changed by every write in its own
//! transaction.

use sqlx::{Postgres, Transaction};

use crate::store::counts::Counts;

/// Applies a transaction's changes to the delivery counts, in (output, status) order (every
/// writer takes the count rows in that order).
pub(super) async fn add(tx: &mut Transaction<'_, Postgres>, counts: &Counts) -> anyhow::Result<()> {
    let mut changes: Vec<(&str, &str, i64)> = counts.changes().collect();
    if changes.is_empty() {
        return Ok(());
    }
    changes.sort_unstable();
    sqlx::query(
        "INSERT INTO delivery_count (output, status, n)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])
         ON CONFLICT (output, status) DO UPDATE SET n = delivery_count.n + EXCLUDED.n",
    )
    .bind(changes.iter().map(|c| c.0).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| c.1).collect::<Vec<_>>())
    .bind(changes.iter().map(|c| c.2).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
