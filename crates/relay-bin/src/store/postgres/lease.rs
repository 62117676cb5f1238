//! Leases (who runs an output's worker, the purge, the reconciler) on the database's clock, and
//! the listener that turns NOTIFY into wake-ups.

use std::time::Duration;

use sqlx::{PgPool, postgres::PgListener};
use tokio::{sync::broadcast, task::JoinHandle};

use super::CHANNEL;

/// The database's clock in Unix milliseconds, as SQL.
const DB_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::int8";

/// Takes `name` for `holder` until `ttl` from now, when it is free, expired or `holder`'s.
pub(super) async fn try_lease(
    pool: &PgPool,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> anyhow::Result<bool> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let held = sqlx::query(&format!(
        "INSERT INTO lease (name, holder, expires_at) VALUES ($1, $2, {DB_NOW_MS} + $3)
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE lease.holder = EXCLUDED.holder OR lease.expires_at < {DB_NOW_MS}
         RETURNING holder"
    ))
    .bind(name)
    .bind(holder)
    .bind(ttl_ms)
    .fetch_optional(pool)
    .await?;
    Ok(held.is_some())
}

/// Ends `holder`'s lease on `name` now.
pub(super) async fn release(pool: &PgPool, name: &str, holder: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM lease WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// Listens on [`CHANNEL`] and passes each output name on to `announced`. After a lost
/// connection (the listener reconnects by itself) it announces `*`: anything may have been
/// missed, every worker should look.
pub(super) async fn listen(
    pool: PgPool,
    announced: broadcast::Sender<String>,
) -> anyhow::Result<JoinHandle<()>> {
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let _ = announced.send(notification.payload().to_owned());
                }
                Ok(None) => {
                    tracing::warn!("lost the database's notifications; reconnecting");
                    let _ = announced.send("*".to_owned());
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for new deliveries; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}
