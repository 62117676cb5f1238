//! Deliveries counted by output and status, kept in `delivery_count` by every write that
//! accepts, settles, replays or purges, in the same transaction: `/metrics` reads a handful of
//! rows instead of counting deliveries (most of which have no row: the cursor passed them).

/// Adds `excluded.n` to a count, creating it at that value.
pub(super) const ADD: &str = "INSERT INTO delivery_count (output, status, n) VALUES (?1, ?2, ?3) \
     ON CONFLICT(output, status) DO UPDATE SET n = n + excluded.n";

/// Counts every delivery again (when the relay starts serving): the exception rows by status,
/// then the deliveries without a row, delivered below their output's cursor and pending above.
pub(super) const RECOUNT: [&str; 3] = [
    "DELETE FROM delivery_count",
    "INSERT INTO delivery_count (output, status, n) \
     SELECT output, status, COUNT(*) FROM exception GROUP BY output, status",
    "INSERT INTO delivery_count (output, status, n) \
     SELECT * FROM (SELECT c.output, CASE WHEN l.seq > c.seq THEN 'pending' ELSE 'delivered' END AS status, COUNT(*) \
       FROM cursor c JOIN log l ON l.seq <= c.last_named AND instr(l.outputs, ',' || c.no || ',') \
       WHERE NOT EXISTS (SELECT 1 FROM exception e WHERE e.id = (l.seq << 16) | c.no) \
       GROUP BY c.output, status) WHERE true \
     ON CONFLICT(output, status) DO UPDATE SET n = n + excluded.n",
];

pub(super) use crate::store::counts::Counts;
