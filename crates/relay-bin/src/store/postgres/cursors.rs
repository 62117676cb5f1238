//! Each output's cursor on PostgreSQL (SQLite's `cursor` table in two: `cursor` holds what
//! outcomes move, `cursor_end` what accepts move).

use sqlx::{Postgres, Row, Transaction};

use crate::store::ids::MAX_OUTPUTS;

pub(super) use crate::store::log::Cursor;

/// The columns [`from_row`] reads (`c` the cursor, settled by outcomes; `e` its end, moved by
/// accepts).
pub(super) const COLUMNS: &str =
    "SELECT c.output, c.no, c.seq, e.last_named FROM cursor c JOIN cursor_end e ON e.no = c.no";

/// A cursor from a row of [`COLUMNS`].
pub(super) fn from_row(row: &sqlx::postgres::PgRow) -> Cursor {
    Cursor {
        output: row.get("output"),
        no: row.get("no"),
        seq: row.get("seq"),
        last_named: row.get("last_named"),
    }
}

/// The numbers of `names` (sorted), numbering those seen for the first time (their cursor at
/// the log's end). Called under the log lock, so no other accept numbers at the same time.
///
/// # Errors
/// A read or write failure, or every number taken.
pub(super) async fn number(
    tx: &mut Transaction<'_, Postgres>,
    names: &[&str],
) -> anyhow::Result<Vec<(String, i64)>> {
    let known: Vec<(String, i64)> =
        sqlx::query_as("SELECT output, no FROM cursor WHERE output = ANY($1)")
            .bind(names)
            .fetch_all(&mut **tx)
            .await?;
    let new: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !known.iter().any(|(known, _)| known == name))
        .collect();
    if new.is_empty() {
        return Ok(known);
    }
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(no), 0) + 1 FROM cursor")
        .fetch_one(&mut **tx)
        .await?;
    let count = i64::try_from(new.len()).unwrap_or(i64::MAX);
    anyhow::ensure!(
        first.saturating_add(count) - 1 <= MAX_OUTPUTS,
        "this database has numbered {MAX_OUTPUTS} output names, the most it can"
    );
    let numbers: Vec<i64> = (first..first + count).collect();
    sqlx::query(
        "WITH numbered AS (
             INSERT INTO cursor (output, no, seq)
             SELECT v.output, v.no, e.seq
             FROM unnest($1::text[], $2::int8[]) AS v(output, no),
                  (SELECT COALESCE(MAX(seq), 0) AS seq FROM log) AS e
             RETURNING no, seq)
         INSERT INTO cursor_end (no, last_named) SELECT no, seq FROM numbered",
    )
    .bind(&new)
    .bind(&numbers)
    .execute(&mut **tx)
    .await?;
    let mut all = known;
    all.extend(new.iter().map(|name| (*name).to_owned()).zip(numbers));
    Ok(all)
}
