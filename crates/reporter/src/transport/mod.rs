//! Delivery: a bounded queue the app only `try_send`s into, and a worker thread that
//! builds events, compresses them and posts them to every DSN.
//!
//! The worker runs on its own thread with its own single-threaded tokio runtime, so it
//! works whatever runtime the app uses (or none), and its work never competes with the
//! app's request tasks for a runtime worker.

mod items;
mod rate_limits;
mod storm;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use mayday_protocol::{Dsn, Envelope, Event, ItemType, SentryAuth};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::capture::Capture;
use crate::config::Config;
use crate::report::{SDK_NAME, build_event};
use rate_limits::RateLimits;
use storm::{Storms, Verdict};

use crate::request_counts::RequestCounts;

/// What the worker is asked to do.
#[allow(clippy::large_enum_variant)] // Reports are nearly all the jobs; flushes are rare.
enum Job {
    Report(Capture),
    /// A cron check-in: sent as it is, no event to build.
    CheckIn(mayday_protocol::CheckIn),
    /// Feedback, as its `user_report` item's JSON.
    Feedback(Vec<u8>),
    /// Send the storm summaries now, then tell how many reports are queued in all.
    Flush(Box<dyn FnOnce(u64) + Send>),
}

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
    /// Reports left out on purpose: ignored types, sampling, `before_send`.
    pub filtered: u64,
    /// Reports held back by storm control (each window's summary counts them).
    pub suppressed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    rate_limited: AtomicU64,
    filtered: AtomicU64,
    suppressed: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many queued reports are finished (delivered to every DSN or given up), for
/// async and blocking waiters alike.
#[derive(Debug)]
struct Progress {
    watch: watch::Sender<u64>,
    done: Mutex<u64>,
    changed: Condvar,
}

impl Progress {
    fn new() -> Self {
        Progress {
            watch: watch::Sender::new(0),
            done: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    fn finish_one(&self) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        *done += 1;
        self.watch.send_replace(*done);
        self.changed.notify_all();
    }

    /// Blocks until `target` reports are finished or `deadline` passes.
    fn wait_blocking(&self, target: u64, deadline: Instant) -> bool {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        while *done < target {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .changed
                .wait_timeout(done, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

thread_local! {
    /// Set on the worker's threads (its own and its runtime's blocking pool).
    static WORKER_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn mark_worker_thread() {
    let _ = WORKER_THREAD.try_with(|flag| flag.set(true));
}

/// Whether the current thread is one of the worker's.
pub(crate) fn on_worker_thread() -> bool {
    WORKER_THREAD
        .try_with(std::cell::Cell::get)
        .unwrap_or(false)
}

/// The app's side of the queue.
pub(crate) struct Transport {
    sender: mpsc::Sender<Job>,
    counters: Arc<Counters>,
    progress: Arc<Progress>,
    /// Requests per route and outcome, when the app counts them.
    pub(crate) requests: Option<Arc<RequestCounts>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn start(config: Arc<Config>) -> std::io::Result<Self> {
        // One more slot than asked for, so that a flush request finds room.
        let (sender, receiver) = mpsc::channel(config.queue_capacity + 1);
        let counters = Arc::new(Counters::default());
        let progress = Arc::new(Progress::new());
        let requests = config
            .request_counts
            .then(|| Arc::new(RequestCounts::default()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_start(mark_worker_thread)
            .thread_name("mayday-transport")
            .build()?;
        let worker = Worker {
            config,
            counters: counters.clone(),
            progress: progress.clone(),
            requests: requests.clone(),
        };
        std::thread::Builder::new()
            .name("mayday-transport".into())
            .spawn(move || {
                mark_worker_thread();
                runtime.block_on(worker.run(receiver));
            })?;
        Ok(Transport {
            sender,
            counters,
            progress,
            requests,
        })
    }

    /// Queues a report without waiting; counts a drop when the queue is full.
    pub(crate) fn try_send(&self, capture: Capture) -> bool {
        // Counted before sending so that `finished` never overtakes `queued`.
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        // Leave the last slot to flush requests.
        if self.sender.capacity() <= 1 {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            Counters::add(&self.counters.dropped);
            return false;
        }
        match self.sender.try_send(Job::Report(capture)) {
            Ok(()) => true,
            Err(_) => {
                self.counters.queued.fetch_sub(1, Ordering::Relaxed);
                Counters::add(&self.counters.dropped);
                false
            }
        }
    }

    /// Queues a check-in without waiting; counted like a report (queued, sent, dropped),
    /// so that a flush waits for it too.
    pub(crate) fn try_send_check_in(&self, check_in: mayday_protocol::CheckIn) -> bool {
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        if self.sender.capacity() <= 1 || self.sender.try_send(Job::CheckIn(check_in)).is_err() {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            Counters::add(&self.counters.dropped);
            return false;
        }
        true
    }

    /// Queues feedback (a `user_report` item's JSON) without waiting; counted like a
    /// report.
    pub(crate) fn try_send_feedback(&self, payload: Vec<u8>) -> bool {
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        if self.sender.capacity() <= 1 || self.sender.try_send(Job::Feedback(payload)).is_err() {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            Counters::add(&self.counters.dropped);
            return false;
        }
        true
    }

    /// Asks the worker to send storm summaries now; `reply` gets how many reports are
    /// queued once they are. Returns false (and drops `reply`) when the queue is full.
    fn request_flush(&self, reply: Box<dyn FnOnce(u64) + Send>) -> bool {
        self.sender.try_send(Job::Flush(reply)).is_ok()
    }

    pub(crate) async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let (reply, target) = tokio::sync::oneshot::channel();
        let target = if self.request_flush(Box::new(move |queued| {
            let _ = reply.send(queued);
        })) {
            match tokio::time::timeout_at(deadline, target).await {
                Ok(Ok(queued)) => queued,
                _ => return false,
            }
        } else {
            self.counters.queued.load(Ordering::Relaxed)
        };
        let mut finished = self.progress.watch.subscribe();
        tokio::time::timeout_at(deadline, finished.wait_for(|done| *done >= target))
            .await
            .is_ok_and(|result| result.is_ok())
    }

    pub(crate) fn flush_blocking(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (reply, target) = std::sync::mpsc::sync_channel(1);
        let target = if self.request_flush(Box::new(move |queued| {
            let _ = reply.send(queued);
        })) {
            match target.recv_timeout(timeout) {
                Ok(queued) => queued,
                Err(_) => return false,
            }
        } else {
            self.counters.queued.load(Ordering::Relaxed)
        };
        self.progress.wait_blocking(target, deadline)
    }

    pub(crate) fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            queued: c.queued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            filtered: c.filtered.load(Ordering::Relaxed),
            suppressed: c.suppressed.load(Ordering::Relaxed),
        }
    }
}

/// One destination: a DSN and the rate limits its server asked for.
struct Target {
    dsn: Dsn,
    url: String,
    auth: String,
    limits: Mutex<RateLimits>,
    /// Whether "the collector refused the key" was logged: once, then quiet.
    warned_refused: AtomicBool,
    /// Whether "the collector cannot be reached" was logged since the last delivery.
    warned_unreachable: AtomicBool,
}

/// The worker thread's side: builds events and delivers them.
struct Worker {
    config: Arc<Config>,
    counters: Arc<Counters>,
    progress: Arc<Progress>,
    requests: Option<Arc<RequestCounts>>,
}

/// How often request counts are sent.
const REQUEST_COUNTS_EVERY: Duration = Duration::from_secs(60);

/// How often storm windows are checked for summaries that are due.
const STORM_TICK: Duration = Duration::from_secs(1);

impl Worker {
    async fn run(self, mut receiver: mpsc::Receiver<Job>) {
        let client = match reqwest::Client::builder()
            .timeout(self.config.request_timeout)
            .user_agent(format!("{SDK_NAME}/{}", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "mayday: cannot build an HTTP client; reports are dropped");
                while let Some(job) = receiver.recv().await {
                    match job {
                        Job::Report(_) | Job::CheckIn(_) | Job::Feedback(_) => {
                            Counters::add(&self.counters.failed);
                            self.progress.finish_one();
                        }
                        Job::Flush(reply) => reply(self.counters.queued.load(Ordering::Relaxed)),
                    }
                }
                return;
            }
        };
        let client_name = format!("{SDK_NAME}/{}", env!("CARGO_PKG_VERSION"));
        let targets: Vec<Arc<Target>> = self
            .config
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
                    warned_refused: AtomicBool::new(false),
                    warned_unreachable: AtomicBool::new(false),
                })
            })
            .collect();
        let permits = Arc::new(Semaphore::new(self.config.max_in_flight));
        let mut storms = Storms::new(self.config.storm_limit);
        // Per destination, the last check-in's delivery: the next waits for it, so that a
        // run's `ok` never overtakes its `in_progress`.
        let mut lanes: Vec<Option<tokio::task::JoinHandle<()>>> =
            targets.iter().map(|_| None).collect();
        let mut tick = tokio::time::interval(STORM_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first send a minute from now (`interval` would tick at once, sending the
        // few requests counted before the worker first ran as a minute of their own).
        let mut counts_tick = tokio::time::interval_at(
            tokio::time::Instant::now() + REQUEST_COUNTS_EVERY,
            REQUEST_COUNTS_EVERY,
        );
        counts_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The counts' minute starts now; each send starts the next.
        let mut counting_since = chrono::Utc::now();
        loop {
            let job = tokio::select! {
                job = receiver.recv() => match job {
                    Some(job) => job,
                    None => break,
                },
                _ = counts_tick.tick() => {
                    self.send_request_counts(&mut counting_since, &client, &targets, &permits, &mut lanes).await;
                    continue;
                }
                _ = tick.tick() => {
                    for summary in storms.due(Instant::now(), false) {
                        self.counters.queued.fetch_add(1, Ordering::Relaxed);
                        self.deliver(summary, &client, &targets, &permits).await;
                    }
                    continue;
                }
            };
            match job {
                Job::Report(capture) => {
                    let Some(capture) = self.screen(capture, &targets) else {
                        self.progress.finish_one();
                        continue;
                    };
                    match storms.admit(capture, Instant::now()) {
                        Verdict::Send(capture) => {
                            self.deliver(capture, &client, &targets, &permits).await;
                        }
                        Verdict::Suppressed => {
                            Counters::add(&self.counters.suppressed);
                            self.progress.finish_one();
                        }
                    }
                }
                Job::CheckIn(check_in) => match serde_json::to_vec(&check_in) {
                    Ok(payload) => {
                        let item = (ItemType::CheckIn, payload, "monitor");
                        self.deliver_item(item, &client, &targets, &permits, &mut lanes)
                            .await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "mayday: could not serialize a check-in");
                        Counters::add(&self.counters.failed);
                        self.progress.finish_one();
                    }
                },
                Job::Feedback(payload) => {
                    let item = (ItemType::UserReport, payload, "user_report");
                    self.deliver_item(item, &client, &targets, &permits, &mut lanes)
                        .await;
                }
                Job::Flush(reply) => {
                    self.send_request_counts(
                        &mut counting_since,
                        &client,
                        &targets,
                        &permits,
                        &mut lanes,
                    )
                    .await;
                    for summary in storms.due(Instant::now(), true) {
                        self.counters.queued.fetch_add(1, Ordering::Relaxed);
                        self.deliver(summary, &client, &targets, &permits).await;
                    }
                    reply(self.counters.queued.load(Ordering::Relaxed));
                }
            }
        }
        // The app dropped every handle: let deliveries in flight complete.
        let all = u32::try_from(self.config.max_in_flight).unwrap_or(u32::MAX);
        let _ = permits.acquire_many(all).await;
    }

    /// The cheap checks, before any symbol is resolved or byte compressed: every
    /// destination rate-limited, an ignored type or message, sampling.
    fn screen(&self, capture: Capture, targets: &[Arc<Target>]) -> Option<Capture> {
        let now = Instant::now();
        let open = targets.iter().any(|target| {
            !target
                .limits
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_limited("error", now)
        });
        if !open {
            Counters::add(&self.counters.rate_limited);
            return None;
        }
        let config = &self.config;
        let ignored = capture
            .failure
            .is_ignored(&config.ignore_errors, &config.ignore_panics);
        let sampled_out = config.sample_rate < 1.0 && fastrand::f64() >= config.sample_rate;
        if ignored || sampled_out {
            Counters::add(&self.counters.filtered);
            return None;
        }
        Some(capture)
    }

    /// Builds the event (resolving symbols), runs `before_send`, and starts a delivery
    /// to each destination; the capture counts as finished when all are done.
    async fn deliver(
        &self,
        capture: Capture,
        client: &reqwest::Client,
        targets: &[Arc<Target>],
        permits: &Arc<Semaphore>,
    ) {
        let config = self.config.clone();
        // Symbol resolution can take milliseconds; keep deliveries in flight meanwhile.
        let built = tokio::task::spawn_blocking(move || {
            let event = build_event(capture, &config);
            match &config.before_send {
                Some(hook) => hook(event),
                None => Some(event),
            }
        })
        .await;
        let event = match built {
            Ok(Some(event)) => event,
            Ok(None) => {
                Counters::add(&self.counters.filtered);
                self.progress.finish_one();
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "mayday: building an event failed");
                Counters::add(&self.counters.failed);
                self.progress.finish_one();
                return;
            }
        };
        let remaining = Arc::new(AtomicUsize::new(targets.len()));
        for target in targets {
            let body = match encode(&event, &target.dsn) {
                Ok(body) => body,
                Err(error) => {
                    tracing::warn!(%error, "mayday: could not serialize an event");
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
                category: "error",
            };
            let remaining = remaining.clone();
            let progress = self.progress.clone();
            tokio::spawn(async move {
                job.run(body).await;
                drop(permit);
                finish_one(&remaining, &progress);
            });
        }
    }
}

fn gzip(envelope: &Envelope) -> Result<Bytes, std::io::Error> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(&envelope.to_bytes())?;
    Ok(Bytes::from(gzip.finish()?))
}

fn finish_one(remaining: &AtomicUsize, progress: &Progress) {
    if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
        progress.finish_one();
    }
}

/// The envelope for `event` addressed to `dsn`, gzip-compressed.
fn encode(event: &Event, dsn: &Dsn) -> Result<Bytes, std::io::Error> {
    let mut envelope = Envelope::from_event(event, Some(dsn))?;
    envelope.header.sent_at =
        Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    gzip(&envelope)
}

/// One envelope to one target, with retries.
struct Delivery {
    client: reqwest::Client,
    target: Arc<Target>,
    counters: Arc<Counters>,
    retry_for: Duration,
    /// The rate-limit category of what it carries: `error`, `monitor`.
    category: &'static str,
}

impl Delivery {
    async fn run(self, body: Bytes) {
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            if self.limits().is_limited(self.category, Instant::now()) {
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
                        self.target
                            .warned_unreachable
                            .store(false, Ordering::Relaxed);
                        return;
                    }
                    if status == http::StatusCode::TOO_MANY_REQUESTS {
                        Counters::add(&self.counters.rate_limited);
                        return;
                    }
                    if matches!(
                        status,
                        http::StatusCode::UNAUTHORIZED | http::StatusCode::FORBIDDEN
                    ) {
                        // A wrong or disabled DSN key fails every event alike: said
                        // once, with the collector's reason, then quiet.
                        if !self.target.warned_refused.swap(true, Ordering::Relaxed) {
                            let detail = response.text().await.unwrap_or_default();
                            let detail: String = detail.chars().take(200).collect();
                            tracing::warn!(
                                %status,
                                collector = %self.target.dsn.host(),
                                %detail,
                                "mayday: the collector refused this DSN's key; events are dropped until the DSN is fixed (logged once)"
                            );
                        }
                        Counters::add(&self.counters.failed);
                        return;
                    }
                    if !status.is_server_error() {
                        tracing::warn!(%status, "mayday: the collector rejected an event");
                        Counters::add(&self.counters.failed);
                        return;
                    }
                }
                Err(error) => {
                    if !self.target.warned_unreachable.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            collector = %self.target.dsn.host(),
                            %error,
                            "mayday: cannot reach the collector; retrying in the background (logged once until it answers)"
                        );
                    } else {
                        tracing::debug!(%error, "mayday: sending an event failed; will retry");
                    }
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
