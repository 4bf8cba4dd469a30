//! Delivery: a bounded queue the app only `try_send`s into, and a worker thread that
//! builds events, compresses them and posts them to every DSN.
//!
//! The worker runs on its own thread with its own single-threaded tokio runtime, so it
//! works whatever runtime the app uses (or none), and its work never competes with the
//! app's request tasks for a runtime worker.

mod rate_limits;

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use mayday_protocol::{Dsn, Envelope, Event, SentryAuth};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::capture::Capture;
use crate::report::{SDK_NAME, build_event};
use crate::reporter::Config;
use rate_limits::RateLimits;

/// Counters of what happened to reports, readable by the app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Reports accepted into the queue.
    pub queued: u64,
    /// Deliveries the collector accepted (one per DSN).
    pub sent: u64,
    /// Reports dropped because the queue was full.
    pub dropped: u64,
    /// Deliveries given up: retries exhausted, or rejected with a 4xx.
    pub failed: u64,
    /// Deliveries skipped or refused because the collector asked us to slow down.
    pub rate_limited: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    rate_limited: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The app's side of the queue.
#[derive(Debug)]
pub(crate) struct Transport {
    sender: mpsc::Sender<Capture>,
    counters: Arc<Counters>,
    /// How many queued reports are finished (delivered to every DSN or given up).
    finished: watch::Receiver<u64>,
}

impl Transport {
    pub(crate) fn start(config: Arc<Config>) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel(config.queue_capacity);
        let (finished_tx, finished) = watch::channel(0u64);
        let counters = Arc::new(Counters::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let worker_counters = counters.clone();
        std::thread::Builder::new()
            .name("mayday-transport".into())
            .spawn(move || {
                runtime.block_on(run_worker(receiver, config, worker_counters, finished_tx));
            })?;
        Ok(Transport {
            sender,
            counters,
            finished,
        })
    }

    /// Queues a report without waiting; counts a drop when the queue is full.
    pub(crate) fn try_send(&self, capture: Capture) -> bool {
        // Counted before sending so `finished` can never overtake `queued`.
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        match self.sender.try_send(capture) {
            Ok(()) => true,
            Err(_) => {
                self.counters.queued.fetch_sub(1, Ordering::Relaxed);
                Counters::add(&self.counters.dropped);
                false
            }
        }
    }

    pub(crate) async fn flush(&self, timeout: Duration) -> bool {
        let target = self.counters.queued.load(Ordering::Relaxed);
        let mut finished = self.finished.clone();
        tokio::time::timeout(timeout, finished.wait_for(|done| *done >= target))
            .await
            .is_ok_and(|result| result.is_ok())
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            queued: c.queued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
        }
    }
}

/// One destination: a DSN and the rate limits its server asked for.
struct Target {
    dsn: Dsn,
    url: String,
    auth: String,
    limits: Mutex<RateLimits>,
}

async fn run_worker(
    mut receiver: mpsc::Receiver<Capture>,
    config: Arc<Config>,
    counters: Arc<Counters>,
    finished: watch::Sender<u64>,
) {
    let client = match reqwest::Client::builder()
        .timeout(config.request_timeout)
        .user_agent(format!("{SDK_NAME}/{}", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "mayday: cannot build an HTTP client; reports are dropped");
            while receiver.recv().await.is_some() {
                Counters::add(&counters.failed);
                finished.send_modify(|done| *done += 1);
            }
            return;
        }
    };
    let client_name = format!("{SDK_NAME}/{}", env!("CARGO_PKG_VERSION"));
    let targets: Vec<Arc<Target>> = config
        .dsns
        .iter()
        .map(|dsn| {
            let mut auth = SentryAuth::new(dsn.public_key(), client_name.clone());
            auth.secret = dsn.secret_key().map(str::to_owned);
            Arc::new(Target {
                dsn: dsn.clone(),
                url: dsn.envelope_url().to_string(),
                auth: auth.to_string(),
                limits: Mutex::new(RateLimits::default()),
            })
        })
        .collect();
    let permits = Arc::new(Semaphore::new(config.max_in_flight));
    let finished = Arc::new(finished);

    while let Some(capture) = receiver.recv().await {
        let build_config = config.clone();
        // Symbol resolution can take milliseconds; keep deliveries in flight meanwhile.
        let event =
            match tokio::task::spawn_blocking(move || build_event(capture, &build_config)).await {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!(%error, "mayday: building an event failed");
                    Counters::add(&counters.failed);
                    finished.send_modify(|done| *done += 1);
                    continue;
                }
            };
        let remaining = Arc::new(AtomicUsize::new(targets.len()));
        for target in &targets {
            let body = match encode(&event, &target.dsn) {
                Ok(body) => body,
                Err(error) => {
                    tracing::warn!(%error, "mayday: could not serialize an event");
                    Counters::add(&counters.failed);
                    finish_one(&remaining, &finished);
                    continue;
                }
            };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let job = Delivery {
                client: client.clone(),
                target: target.clone(),
                counters: counters.clone(),
                retry_for: config.retry_for,
            };
            let remaining = remaining.clone();
            let finished = finished.clone();
            tokio::spawn(async move {
                job.run(body).await;
                drop(permit);
                finish_one(&remaining, &finished);
            });
        }
    }
    // The app dropped every handle: let deliveries in flight complete.
    let all = u32::try_from(config.max_in_flight).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

fn finish_one(remaining: &AtomicUsize, finished: &watch::Sender<u64>) {
    if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
        finished.send_modify(|done| *done += 1);
    }
}

/// The envelope for `event` addressed to `dsn`, gzip-compressed.
fn encode(event: &Event, dsn: &Dsn) -> Result<Bytes, std::io::Error> {
    let mut envelope = Envelope::from_event(event, Some(dsn))?;
    envelope.header.sent_at =
        Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(&envelope.to_bytes())?;
    Ok(Bytes::from(gzip.finish()?))
}

/// One envelope to one target, with retries.
struct Delivery {
    client: reqwest::Client,
    target: Arc<Target>,
    counters: Arc<Counters>,
    retry_for: Duration,
}

impl Delivery {
    async fn run(self, body: Bytes) {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            if self.limits().is_limited("error", Instant::now()) {
                Counters::add(&self.counters.rate_limited);
                return;
            }
            let response = self
                .client
                .post(&self.target.url)
                .header("x-sentry-auth", &self.target.auth)
                .header(http::header::CONTENT_TYPE, "application/x-sentry-envelope")
                .header(http::header::CONTENT_ENCODING, "gzip")
                .body(body.clone())
                .send()
                .await;
            match response {
                Ok(response) => {
                    let status = response.status();
                    self.limits()
                        .update(status, response.headers(), Instant::now());
                    if status.is_success() {
                        Counters::add(&self.counters.sent);
                        return;
                    }
                    if status == http::StatusCode::TOO_MANY_REQUESTS {
                        Counters::add(&self.counters.rate_limited);
                        return;
                    }
                    if !status.is_server_error() {
                        tracing::warn!(%status, "mayday: the collector rejected an event");
                        Counters::add(&self.counters.failed);
                        return;
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "mayday: sending an event failed; will retry");
                }
            }
            attempt += 1;
            let delay = backoff(attempt);
            if started.elapsed() + delay > self.retry_for {
                Counters::add(&self.counters.failed);
                return;
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn limits(&self) -> std::sync::MutexGuard<'_, RateLimits> {
        self.target
            .limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Exponential backoff from 100 ms, capped at 10 s, with jitter over the upper half so
/// that many reporters do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(7)).min(10_000);
    Duration::from_millis(fastrand::u64(base / 2..=base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..20 {
            let delay = backoff(attempt);
            assert!(delay <= Duration::from_secs(10));
            assert!(delay >= Duration::from_millis(100));
        }
        assert!(backoff(6) > backoff(1));
    }
}
