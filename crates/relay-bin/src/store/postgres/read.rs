//! Reads on PostgreSQL: through the pool; the counts by output and status from the queue's
//! index over every row.

crate::store::read::reads!(
    sqlx::PgPool,
    sqlx::postgres::PgRow,
    "SELECT output, status, COUNT(*) AS n FROM outbox GROUP BY output, status",
    "SELECT MIN(created_at) FROM outbox WHERE status = 'pending'"
);
