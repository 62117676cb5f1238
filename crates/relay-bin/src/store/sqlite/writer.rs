//! The store's single writer: commits groups of queued writes in one transaction each, with
//! multi-row statements; a checkpointer folds the WAL into the database off the commit path.

use std::time::Duration;

use sqlx::{Connection, QueryBuilder, Row, Sqlite, SqliteConnection};
use tokio::sync::mpsc;

use super::{MAX_GROUP, Write};
use crate::store::{
    Accepted, Completion, InboxRow, NewDelivery, Status,
    dedup::{Job, Known, decide},
};

/// The writer's own automatic checkpoint threshold (pages of 4 KiB): a backstop only.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 16_384;
/// Starts the writer on `connection` and its checkpointer on `checkpoints`.
pub(super) fn start(
    connection: SqliteConnection,
    checkpoints: SqliteConnection,
    queue: mpsc::Receiver<Write>,
) {
    let (committed, commits) = mpsc::channel(1);
    let checkpointer = tokio::spawn(checkpointer(checkpoints, commits));
    tokio::spawn(writer(connection, queue, committed, checkpointer));
}

/// Least time between two background checkpoints.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(200);

/// Copies committed WAL frames into the database file after commits, at most every
/// [`CHECKPOINT_PAUSE`], until the writer stops. `PASSIVE` never blocks the writer or readers.
async fn checkpointer(mut connection: SqliteConnection, mut commits: mpsc::Receiver<()>) {
    while commits.recv().await.is_some() {
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut connection)
            .await
        {
            tracing::warn!(error = %err, "WAL checkpoint failed; the next one retries");
        }
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
    let _ = connection.close().await;
}

/// The single writer: takes every queued write, applies them in one transaction, commits once,
/// answers each. A failed commit fails the whole group (nothing in it was stored). After each
/// commit it nudges the checkpointer (`committed` holds at most one nudge).
async fn writer(
    mut connection: SqliteConnection,
    mut queue: mpsc::Receiver<Write>,
    committed: mpsc::Sender<()>,
    checkpoints: tokio::task::JoinHandle<()>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut closing = Vec::new();
    while closing.is_empty() && queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        linger(&mut queue, &mut group).await;
        closing.extend(
            group
                .extract_if(.., |w| matches!(w, Write::Close(_)))
                .filter_map(|w| match w {
                    Write::Close(reply) => Some(reply),
                    _ => None,
                }),
        );
        if group.is_empty() {
            continue;
        }
        match apply(&mut connection, &mut group).await {
            Ok(results) => {
                let _ = committed.try_send(());
                for (write, result) in group.drain(..).zip(results) {
                    answer(write, Ok(result));
                }
            }
            Err(err) => {
                // Leave no transaction half-open: SQLite may or may not have rolled back by
                // itself (it does on some SQLITE_FULL errors); a stray ROLLBACK is harmless.
                let _ = sqlx::query("ROLLBACK").execute(&mut connection).await;
                tracing::error!(error = %format!("{err:#}"), writes = group.len(), "store commit failed");
                let message = format!("{err:#}");
                for write in group.drain(..) {
                    answer(
                        write,
                        Err(anyhow::anyhow!("store commit failed: {message}")),
                    );
                }
            }
        }
    }
    // Closing (or every handle dropped): stop the checkpointer, fold the WAL into the database
    // and close, so no file stays open and the WAL is empty.
    drop(committed);
    let _ = checkpoints.await;
    let result = async {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut connection)
            .await?;
        connection.close().await
    }
    .await
    .map_err(|err| anyhow::anyhow!("closing the database: {err}"));
    if let Err(err) = &result {
        tracing::warn!(error = %format!("{err:#}"), "the database did not close cleanly; the next start recovers its WAL");
    }
    let message = result.as_ref().err().map(|err| format!("{err:#}"));
    for reply in closing {
        let _ = reply.send(match &message {
            None => Ok(()),
            Some(message) => Err(anyhow::anyhow!("{message}")),
        });
    }
}

/// How long a group of send outcomes alone waits for more writes before it commits.
///
/// Outcomes are not acknowledged to anyone: committing them late only widens what a crash
/// resends, which the workers bound (`delivery::MAX_UNCOMMITTED`). Without the wait, delivery
/// at full speed committed (and fsynced) every few outcomes.
pub(super) const COMPLETION_LINGER: Duration = Duration::from_millis(10);

/// While `group` holds only send outcomes (and is not full), waits up to
/// [`COMPLETION_LINGER`] for more writes; any other write (an accept waiting for its 200, a
/// probe, an operator write, close) ends the wait at once.
async fn linger(queue: &mut mpsc::Receiver<Write>, group: &mut Vec<Write>) {
    let only_outcomes = |group: &[Write]| group.iter().all(|w| matches!(w, Write::Complete(..)));
    let deadline = tokio::time::Instant::now() + COMPLETION_LINGER;
    while group.len() < MAX_GROUP && only_outcomes(group) {
        let room = MAX_GROUP - group.len();
        // `recv_many` is cancel-safe: a timeout loses nothing.
        match tokio::time::timeout_at(deadline, queue.recv_many(group, room)).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn answer(write: Write, result: anyhow::Result<Option<Accepted>>) {
    match write {
        Write::Accept(_, reply) => {
            let _ = reply.send(result.map(|r| r.unwrap_or(Accepted::Duplicate)));
        }
        Write::Complete(_, reply)
        | Write::DisableOutput { reply, .. }
        | Write::Probe(_, reply)
        | Write::Purge(_, reply)
        | Write::Close(reply) => {
            let _ = reply.send(result.map(drop));
        }
    }
}

/// Rows per multi-row statement (SQLite allows 32766 bound parameters; 10 per row here).
const ROWS_PER_STATEMENT: usize = 500;

/// Applies a group in one transaction: all accepts with a few multi-row statements, all
/// completions with one statement per chunk, then the rare operator writes in order.
///
/// The transaction is plain SQL (`BEGIN IMMEDIATE` … `COMMIT`) on the writer's own connection:
/// after a failure the caller rolls back explicitly, so no transaction state is ever carried
/// into the next group (a pooled transaction whose rollback failed could otherwise keep later
/// "commits" inside a transaction that is never committed).
async fn apply(
    connection: &mut SqliteConnection,
    group: &mut [Write],
) -> anyhow::Result<Vec<Option<Accepted>>> {
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await?;
    let tx = connection;
    let jobs: Vec<&Job> = group
        .iter()
        .filter_map(|w| match w {
            Write::Accept(job, _) => Some(&**job),
            _ => None,
        })
        .collect();
    let mut accepted = accept_group(tx, &jobs).await?.into_iter();
    let completions: Vec<&Completion> = group
        .iter()
        .filter_map(|w| match w {
            Write::Complete(c, _) => Some(c),
            _ => None,
        })
        .collect();
    complete_group(tx, &completions).await?;
    let mut results = Vec::with_capacity(group.len());
    for write in group.iter() {
        results.push(match write {
            Write::Accept(..) => accepted.next(),
            Write::Complete(..) | Write::Close(_) => None,
            Write::Probe(at, _) => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('ready_probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                    .bind(at.to_string())
                    .execute(&mut *tx)
                    .await?;
                None
            }
            Write::Purge(before, _) => {
                // An event stays while a delivery of it may still be sent (pending, or dead or
                // skipped and replayable): the worker renders it from the inbox.
                sqlx::query(crate::store::purge::INBOX)
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM attempt WHERE outbox_id IN (SELECT id FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?)")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM outbox_body WHERE id IN (SELECT id FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?)")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM outbox WHERE status IN ('delivered', 'expired') AND finished_at < ?")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                None
            }
            Write::DisableOutput { name, reason, at, .. } => {
                sqlx::query(
                    "INSERT INTO output_state (name, disabled, reason, changed_at) VALUES (?, 1, ?, ?)
                     ON CONFLICT(name) DO UPDATE SET disabled = 1, reason = excluded.reason, changed_at = excluded.changed_at",
                )
                .bind(name)
                .bind(reason)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE outbox SET status = 'skipped', last_error = ?, finished_at = ? WHERE output = ? AND status = 'pending'")
                    .bind(format!("output disabled: {reason}"))
                    .bind(at)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                None
            }
        });
    }
    sqlx::query("COMMIT").execute(&mut *tx).await?;
    Ok(results)
}

/// Decides duplicates for a group of accepts (against the table and within the group, in
/// order) and inserts the new ones with multi-row statements.
async fn accept_group(tx: &mut SqliteConnection, jobs: &[&Job]) -> anyhow::Result<Vec<Accepted>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut known = Known::default();
    for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
        let mut ids =
            QueryBuilder::<Sqlite>::new("SELECT message_id FROM inbox WHERE message_id IN (");
        let mut list = ids.separated(", ");
        for job in chunk {
            list.push_bind(&job.0.message_id);
        }
        ids.push(")");
        for row in ids.build().fetch_all(&mut *tx).await? {
            known.ids.insert(row.get("message_id"));
        }
        let keys: Vec<&String> = chunk
            .iter()
            .filter_map(|job| job.0.dedup_key.as_ref())
            .collect();
        if !keys.is_empty() {
            let mut query = QueryBuilder::<Sqlite>::new(
                "SELECT dedup_key, subscription_id, MAX(received_at) AS latest FROM inbox WHERE dedup_key IN (",
            );
            let mut list = query.separated(", ");
            for key in keys {
                list.push_bind(key);
            }
            query.push(") GROUP BY dedup_key, subscription_id");
            for row in query.build().fetch_all(&mut *tx).await? {
                known
                    .keys
                    .entry(row.get("dedup_key"))
                    .or_default()
                    .push((row.get("subscription_id"), row.get("latest")));
            }
        }
    }
    let (results, fresh) = decide(jobs, known);
    insert_fresh(tx, &fresh).await?;
    Ok(results)
}

/// Inserts new inbox rows and their outbox rows with multi-row statements.
async fn insert_fresh(tx: &mut SqliteConnection, fresh: &[&Job]) -> anyhow::Result<()> {
    for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO inbox (message_id, dedup_key, received_at, event_type, version, subscription_id, timestamp, signature, body, parse_error) ",
        );
        insert.push_values(chunk, |mut row, job| {
            let inbox = &job.0;
            row.push_bind(&inbox.message_id)
                .push_bind(&inbox.dedup_key)
                .push_bind(inbox.received_at)
                .push_bind(&inbox.event_type)
                .push_bind(&inbox.version)
                .push_bind(&inbox.subscription_id)
                .push_bind(&inbox.timestamp)
                .push_bind(&inbox.signature)
                .push_bind(&inbox.body)
                .push_bind(&inbox.parse_error);
        });
        insert.build().execute(&mut *tx).await?;
    }
    let rows: Vec<(&InboxRow, &NewDelivery)> = fresh
        .iter()
        .flat_map(|job| job.1.iter().map(move |delivery| (&job.0, delivery)))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO outbox (message_id, output, event_type, status, created_at, next_attempt_at, last_error, finished_at) ",
        );
        insert.push_values(chunk, |mut row, (inbox, delivery)| {
            let finished = (delivery.status != Status::Pending).then_some(inbox.received_at);
            row.push_bind(&inbox.message_id)
                .push_bind(&delivery.output)
                .push_bind(&inbox.event_type)
                .push_bind(delivery.status.as_str())
                .push_bind(inbox.received_at)
                .push_bind(inbox.received_at)
                .push_bind(&delivery.last_error)
                .push_bind(finished);
        });
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Records send outcomes: one `UPDATE … FROM (VALUES …)` per chunk.
async fn complete_group(
    tx: &mut SqliteConnection,
    completions: &[&Completion],
) -> anyhow::Result<()> {
    for chunk in completions.chunks(ROWS_PER_STATEMENT) {
        let mut update = QueryBuilder::<Sqlite>::new(
            // SQLite names VALUES columns column1, column2, …: id, status, attempts,
            // next_attempt_at, last_status, last_error, finished_at.
            "UPDATE outbox SET status = v.column2, attempts = v.column3, next_attempt_at = v.column4, \
             last_status = v.column5, last_error = v.column6, finished_at = v.column7 FROM (",
        );
        update.push_values(chunk, |mut row, c| {
            row.push_bind(c.id)
                .push_bind(c.status.as_str())
                .push_bind(c.attempts)
                .push_bind(c.next_attempt_at)
                .push_bind(c.last_status)
                .push_bind(&c.last_error)
                .push_bind(c.finished_at);
        });
        update.push(") AS v WHERE outbox.id = v.column1");
        update.build().execute(&mut *tx).await?;
    }
    // History: every outcome but a first-try delivery, which the outbox row says all about,
    // unless the row already has history (a replayed or retried delivery).
    for chunk in completions.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            // column1..6: outbox id, at, status, http status, error, always (0/1).
            "INSERT INTO attempt (outbox_id, at, status, http_status, error) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5 FROM (",
        );
        insert.push_values(chunk, |mut row, c| {
            row.push_bind(c.id)
                .push_bind(c.at)
                .push_bind(c.status.as_str())
                .push_bind(c.last_status)
                .push_bind(&c.last_error)
                .push_bind(i64::from(c.is_history()));
        });
        insert.push(
            ") AS v WHERE v.column6 = 1 OR EXISTS (SELECT 1 FROM attempt a WHERE a.outbox_id = v.column1)",
        );
        insert.build().execute(&mut *tx).await?;
    }
    Ok(())
}
