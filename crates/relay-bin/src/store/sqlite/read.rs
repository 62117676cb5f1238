//! Reads on SQLite: through the read-only pool, never waiting for the writer.

crate::store::read::reads!(sqlx::SqlitePool, sqlx::sqlite::SqliteRow);
