//! Group commit for check-ins, as `writer` does for events: requests hand their checked
//! check-ins to one task, which records whatever has arrived meanwhile in one
//! transaction; each request is answered when its batch has committed.
//!
//! One transaction per check-in was the limit before: a cron-heavy project (thousands
//! of jobs reporting each minute) spent a commit, and on SQLite a turn of the write
//! connection, per check-in.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::monitors::MonitorError;
use crate::monitors::check_ins::{self, Checked, Receipt};
use crate::store::{Store, StoreError};

/// Most check-ins in one transaction.
const BATCH_MAX: usize = 256;

struct Job {
    check_in: Checked,
    reply: oneshot::Sender<Result<Receipt, MonitorError>>,
}

/// The requests' side of the check-in writer (the request counts database errors).
#[derive(Debug, Clone)]
pub struct CheckInWriter {
    sender: mpsc::Sender<Job>,
}

impl CheckInWriter {
    /// Starts the writer task; new monitors stop at `max_monitors` per project.
    pub fn start(store: Store, max_monitors: u64, wake: Arc<Notify>) -> Self {
        let (sender, receiver) = mpsc::channel(BATCH_MAX * 4);
        tokio::spawn(run(receiver, store, max_monitors, wake));
        CheckInWriter { sender }
    }

    /// Records `check_in`; returns once it is committed.
    pub async fn record(&self, check_in: Checked) -> Result<Receipt, MonitorError> {
        let (reply, answer) = oneshot::channel();
        // Answered as the store being unavailable (503): the client may retry.
        let stopped = || {
            MonitorError::Store(StoreError::Db(sea_orm::DbErr::Custom(
                "the check-in writer stopped".into(),
            )))
        };
        self.sender
            .send(Job { check_in, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(
    mut receiver: mpsc::Receiver<Job>,
    store: Store,
    max_monitors: u64,
    wake: Arc<Notify>,
) {
    let mut jobs = Vec::with_capacity(BATCH_MAX);
    loop {
        // The first job, then whatever else is waiting: a lone check-in is recorded at
        // once, and under load batches grow by themselves.
        if receiver.recv_many(&mut jobs, BATCH_MAX).await == 0 {
            return;
        }
        let (batch, replies): (Vec<Checked>, Vec<_>) =
            jobs.drain(..).map(|job| (job.check_in, job.reply)).unzip();
        let receipts = check_ins::record_batch(&store, max_monitors, batch).await;
        // A status change may have queued a notification.
        wake.notify_one();
        for (reply, receipt) in replies.into_iter().zip(receipts) {
            // The request may have gone away; its check-in is recorded all the same.
            let _ = reply.send(receipt);
        }
    }
}
