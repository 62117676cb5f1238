//! A group committer: a task that takes every queued item, commits them in one transaction,
//! and answers each (all fail together when the commit fails).

use std::{future::Future, pin::Pin, sync::Mutex, time::Duration};

use sqlx::PgPool;
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

/// Most items committed in one transaction.
const MAX_GROUP: usize = 512;
/// Items waiting for the committer; a full queue makes callers wait (backpressure).
const QUEUE: usize = 4096;

/// Commits a group; one result per item, in order.
pub(super) type Apply<T, R> =
    for<'a> fn(
        &'a PgPool,
        &'a [T],
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<Vec<R>>> + Send + 'a>>;

type Item<T, R> = (T, oneshot::Sender<anyhow::Result<R>>);

/// The queue of one group committer and its task.
#[derive(Debug)]
pub(super) struct Batcher<T, R> {
    queue: Mutex<Option<mpsc::Sender<Item<T, R>>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl<T: Send + Sync + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the committer. A group of one waits up to `linger` for company (for writes
    /// nobody waits on).
    pub(super) fn start(pool: PgPool, apply: Apply<T, R>, linger: Duration) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(pool, receiver, apply, linger));
        Self {
            queue: Mutex::new(Some(sender)),
            task: Mutex::new(Some(task)),
        }
    }

    /// Queues `item`; the receiver answers after its group's commit.
    pub(super) async fn queue(
        &self,
        item: T,
    ) -> anyhow::Result<oneshot::Receiver<anyhow::Result<R>>> {
        let sender = self
            .queue
            .lock()
            .ok()
            .and_then(|queue| queue.clone())
            .ok_or_else(stopped)?;
        let (reply, answer) = oneshot::channel();
        sender.send((item, reply)).await.map_err(|_| stopped())?;
        Ok(answer)
    }

    /// Queues `item` and waits for its group's commit.
    pub(super) async fn call(&self, item: T) -> anyhow::Result<R> {
        self.queue(item).await?.await.map_err(|_| stopped())?
    }

    /// Stops taking items; returns when what was queued is committed.
    pub(super) async fn close(&self) {
        drop(self.queue.lock().ok().and_then(|mut queue| queue.take()));
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn stopped() -> anyhow::Error {
    anyhow::anyhow!("the store's writer has stopped")
}

async fn run<T, R>(
    pool: PgPool,
    mut queue: mpsc::Receiver<Item<T, R>>,
    apply: Apply<T, R>,
    linger: Duration,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        if !linger.is_zero() {
            let deadline = tokio::time::Instant::now() + linger;
            while group.len() < MAX_GROUP {
                let room = MAX_GROUP - group.len();
                // `recv_many` is cancel-safe: a timeout loses nothing.
                match tokio::time::timeout_at(deadline, queue.recv_many(&mut group, room)).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        let (items, replies): (Vec<T>, Vec<_>) = group.drain(..).unzip();
        match apply(&pool, &items).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(err) => {
                let message = format!("{err:#}");
                tracing::error!(error = %message, writes = items.len(), "store commit failed");
                for reply in replies {
                    let _ = reply.send(Err(anyhow::anyhow!("store commit failed: {message}")));
                }
            }
        }
    }
}
