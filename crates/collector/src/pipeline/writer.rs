//! Group commit: ingest requests hand their events to one writer task, which commits
//! them in batches; each request is answered when its batch has committed.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::metrics::Metrics;
use crate::store::{Alerting, NewEvent, Store, StoreError, Stored};

struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<Stored, StoreError>>,
}

/// Why an event could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writer task is gone (the server is shutting down).
    #[error("the writer stopped")]
    Stopped,
}

/// The requests' side of the writer.
#[derive(Debug, Clone)]
pub struct IngestWriter {
    sender: mpsc::Sender<Job>,
}

impl IngestWriter {
    /// Starts the writer task. Batches hold at most `batch_max` events; alert rules
    /// decide as `alerting` says.
    pub fn start(
        store: Store,
        metrics: Arc<Metrics>,
        batch_max: usize,
        alerting: Alerting,
        wake: Arc<Notify>,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(batch_max.saturating_mul(16).max(64));
        tokio::spawn(run(
            receiver,
            store,
            metrics,
            batch_max.max(1),
            alerting,
            wake,
        ));
        IngestWriter { sender }
    }

    /// Stores `event`; returns once it is committed.
    pub async fn write(&self, event: NewEvent) -> Result<Stored, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job { event, reply })
            .await
            .map_err(|_| WriteError::Stopped)?;
        Ok(answer.await.map_err(|_| WriteError::Stopped)??)
    }
}

async fn run(
    mut receiver: mpsc::Receiver<Job>,
    store: Store,
    metrics: Arc<Metrics>,
    batch_max: usize,
    alerting: Alerting,
    wake: Arc<Notify>,
) {
    let mut jobs = Vec::with_capacity(batch_max);
    loop {
        // Wait for the first job, then take whatever else is already waiting: under load
        // batches grow by themselves, and a lone event is committed at once.
        if receiver.recv_many(&mut jobs, batch_max).await == 0 {
            return;
        }
        let (events, replies): (Vec<NewEvent>, Vec<_>) =
            jobs.drain(..).map(|job| (job.event, job.reply)).unzip();
        let results = store.ingest_batch(&events, alerting).await;
        metrics.batch_size.observe(events.len() as f64);
        if results
            .iter()
            .any(|r| r.as_ref().is_ok_and(|s| s.notifications > 0))
        {
            wake.notify_one();
        }
        for (reply, result) in replies.into_iter().zip(results) {
            if result.is_err() {
                metrics.database_errors.inc();
            }
            // The request may have gone away; its event is stored all the same.
            let _ = reply.send(result);
        }
    }
}
