//! Single items the worker sends apart from events: the request counts (a `sessions`
//! item each minute and at a flush) and check-ins and feedback, each to every
//! destination, in order with the items before it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use mayday_protocol::{Dsn, Envelope, Item, ItemType};
use tokio::sync::Semaphore;

use super::{Counters, Delivery, Target, Worker, finish_one, gzip};

impl Worker {
    /// Sends the request counts since `since` (then starts a new period) as one
    /// `sessions` item, counted like a report so that a flush waits for it.
    pub(super) async fn send_request_counts(
        &self,
        since: &mut chrono::DateTime<chrono::Utc>,
        client: &reqwest::Client,
        targets: &[Arc<Target>],
        permits: &Arc<Semaphore>,
        lanes: &mut [Option<tokio::task::JoinHandle<()>>],
    ) {
        let Some(requests) = &self.requests else {
            return;
        };
        let started = *since;
        *since = chrono::Utc::now();
        let taken = requests.take();
        if taken.is_empty() {
            return;
        }
        let item = crate::request_counts::sessions_item(
            &taken,
            &self.config.release,
            &self.config.environment,
            &started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        let Ok(payload) = serde_json::to_vec(&item) else {
            return;
        };
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        self.deliver_item(
            (ItemType::Sessions, payload, "session"),
            client,
            targets,
            permits,
            lanes,
        )
        .await;
    }

    /// Sends one item (a check-in, feedback) to each destination, counted under its
    /// rate-limit `category`, in order with the items before it (`lanes`).
    pub(super) async fn deliver_item(
        &self,
        (ty, payload, category): (ItemType, Vec<u8>, &'static str),
        client: &reqwest::Client,
        targets: &[Arc<Target>],
        permits: &Arc<Semaphore>,
        lanes: &mut [Option<tokio::task::JoinHandle<()>>],
    ) {
        let remaining = Arc::new(AtomicUsize::new(targets.len()));
        for (target, lane) in targets.iter().zip(lanes.iter_mut()) {
            let body = match encode_item(ty.clone(), payload.clone(), &target.dsn) {
                Ok(body) => body,
                Err(error) => {
                    tracing::warn!(%error, "mayday: could not compress an envelope");
                    Counters::add(&self.counters.failed);
                    finish_one(&remaining, &self.progress);
                    continue;
                }
            };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let job = Delivery {
                client: client.clone(),
                target: target.clone(),
                counters: self.counters.clone(),
                retry_for: self.config.retry_for,
                category,
            };
            let remaining = remaining.clone();
            let progress = self.progress.clone();
            let before = lane.take();
            *lane = Some(tokio::spawn(async move {
                if let Some(before) = before {
                    let _ = before.await;
                }
                job.run(body).await;
                drop(permit);
                finish_one(&remaining, &progress);
            }));
        }
    }
}

/// The envelope of one item (a check-in, feedback) addressed to `dsn`, gzip-compressed.
fn encode_item(ty: ItemType, payload: Vec<u8>, dsn: &Dsn) -> Result<Bytes, std::io::Error> {
    let envelope = Envelope {
        header: mayday_protocol::EnvelopeHeader {
            dsn: Some(dsn.to_string()),
            sent_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            ..Default::default()
        },
        items: vec![Item::new(ty, payload)],
    };
    gzip(&envelope)
}
