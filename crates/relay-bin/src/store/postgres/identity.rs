//! Is the database under the configured name still the one this replica served? A database
//! dropped and created again (by hand, or by a restore into a new database of the same name)
//! is reached by the same URL, and once any replica has made its schema, writes succeed in it:
//! undelivered events and the memory of message ids were in the old one, and Kick's next retry
//! of an acknowledged id would be relayed twice. Its `meta.database_id` tells them apart.

use std::{sync::OnceLock, time::Duration};

use sqlx::PgPool;

/// How often a serving replica looks, besides every `/readyz`.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(2);

/// The id of the database this replica opened, and whether it is still there.
#[derive(Debug)]
pub(super) struct PgIdentity {
    database_id: String,
    /// Why the database is no longer the one served (set once, never cleared).
    lost: OnceLock<String>,
}

impl PgIdentity {
    pub(super) fn new(database_id: String) -> Self {
        Self {
            database_id,
            lost: OnceLock::new(),
        }
    }

    /// Why the database is no longer the one served, once a check found it.
    pub(super) fn lost(&self) -> anyhow::Result<()> {
        match self.lost.get() {
            Some(why) => Err(anyhow::anyhow!("{why}")),
            None => Ok(()),
        }
    }

    /// Asks the database for its id: `Ok` while it is the one opened; an error that is kept
    /// from then on when it is not; a passing error when the database cannot be asked (down).
    ///
    /// # Errors
    /// The database was replaced, or cannot be reached.
    pub(super) async fn check(&self, pool: &PgPool) -> anyhow::Result<()> {
        self.lost()?;
        let found = sqlx::query_scalar::<_, String>(crate::store::database_id::READ)
            .fetch_optional(pool)
            .await;
        let changed = match found {
            Ok(Some(id)) if id == self.database_id => return Ok(()),
            Ok(Some(id)) => format!("is another database now (its id is {id})"),
            Ok(None) => "has lost its id (meta.database_id)".to_owned(),
            Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P01") => {
                "has no kick-relay tables any more".to_owned()
            }
            Err(err) => return Err(err.into()),
        };
        let why = format!(
            "the PostgreSQL database this replica served (id {}) {changed}: it was dropped and created again, or replaced. Nothing more is accepted (503): the deliveries not yet sent and the memory of message ids were in the old one. Restore it, then restart the replicas",
            self.database_id
        );
        if self.lost.set(why.clone()).is_ok() {
            tracing::error!("{why}");
        }
        Err(anyhow::anyhow!("{why}"))
    }
}
