//! Reads on SQLite: through the read-only pool, never waiting for the writer. The counts by
//! output and status come from `outbox_count` (kept by every write), the oldest pending row
//! from the head of each output's queue.

crate::store::read::reads!(
    sqlx::SqlitePool,
    sqlx::sqlite::SqliteRow,
    "SELECT output, status, n FROM outbox_count WHERE n != 0",
    "SELECT MIN((SELECT o.created_at FROM outbox o \
                 WHERE o.output = c.output AND o.status = 'pending' ORDER BY o.id LIMIT 1)) \
     FROM outbox_count c WHERE c.status = 'pending' AND c.n > 0"
);
