//! Each output's cursor: its number in delivery ids, the `seq` up to which everything it
//! takes is settled, and the newest `seq` it takes.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::ids::MAX_OUTPUTS;

pub(super) use crate::store::log::Cursor;

const COLUMNS: &str = "SELECT output, no, seq, last_named FROM cursor";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Cursor> {
    Ok(Cursor {
        output: r.get(0)?,
        no: r.get(1)?,
        seq: r.get(2)?,
        last_named: r.get(3)?,
    })
}

/// Output `output`'s cursor, if it was ever given an event.
pub(super) fn of(c: &Connection, output: &str) -> rusqlite::Result<Option<Cursor>> {
    c.prepare_cached(&format!("{COLUMNS} WHERE output = ?1"))?
        .query_row([output], row)
        .optional()
}

/// The cursor of the output numbered `no`.
pub(super) fn numbered(c: &Connection, no: i64) -> rusqlite::Result<Option<Cursor>> {
    c.prepare_cached(&format!("{COLUMNS} WHERE no = ?1"))?
        .query_row([no], row)
        .optional()
}

/// Every output's cursor, by name.
pub(super) fn all(c: &Connection) -> rusqlite::Result<Vec<Cursor>> {
    c.prepare_cached(&format!("{COLUMNS} ORDER BY output"))?
        .query_map([], row)?
        .collect()
}

/// Output `output`'s number, numbering it (its cursor at the log's end) the first time.
///
/// # Errors
/// A write failure, or every number taken.
pub(super) fn number(c: &Connection, output: &str) -> rusqlite::Result<i64> {
    if let Some(no) = c
        .prepare_cached("SELECT no FROM cursor WHERE output = ?1")?
        .query_row([output], |r| r.get(0))
        .optional()?
    {
        return Ok(no);
    }
    let no: i64 = c.query_row("SELECT COALESCE(MAX(no), 0) + 1 FROM cursor", [], |r| {
        r.get(0)
    })?;
    if no > MAX_OUTPUTS {
        return Err(rusqlite::Error::ToSqlConversionFailure(
            format!("this database has numbered {MAX_OUTPUTS} output names, the most it can")
                .into(),
        ));
    }
    c.execute(
        "INSERT INTO cursor (output, no, seq, last_named) \
         SELECT ?1, ?2, COALESCE(MAX(seq), 0), COALESCE(MAX(seq), 0) FROM log",
        params![output, no],
    )?;
    Ok(no)
}
