//! Reads on PostgreSQL: through the pool.

crate::store::read::reads!(sqlx::PgPool, sqlx::postgres::PgRow);
