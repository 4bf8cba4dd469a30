//! The state every request handler and background task shares: settings, the store,
//! the ingest writer and limits, metrics, the sign-in throttle.

use std::sync::Arc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::notify;
use crate::pipeline::check_in_writer::CheckInWriter;
use crate::pipeline::in_flight::InFlight;
use crate::pipeline::rate_limit::RateLimiter;
use crate::pipeline::rejections::Rejections;
use crate::pipeline::writer::IngestWriter;
use crate::store::Store;
use crate::throttle::SignInThrottle;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppInner {
    /// Settings.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The group-commit writer.
    pub writer: IngestWriter,
    /// The group-commit writer of check-ins.
    pub check_ins: CheckInWriter,
    /// Per-key rate limits.
    pub limiter: RateLimiter,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes the notification worker when ingest queued notifications.
    pub notify_wake: Arc<tokio::sync::Notify>,
    /// Slows down repeated failed sign-ins.
    pub sign_in_throttle: SignInThrottle,
    /// Bytes of request bodies held at once.
    pub in_flight: Arc<InFlight>,
    /// Bodies being decompressed at once.
    pub decoders: Arc<tokio::sync::Semaphore>,
    /// Events turned away (bad key, rate limit), per project, for the last hour.
    pub rejections: Rejections,
    /// Names stripped binaries' frames from uploaded debug files.
    pub symbolicator: crate::pipeline::symbolicate::Symbolicator,
}

/// Shared state of the HTTP server.
pub type AppState = Arc<AppInner>;

impl AppInner {
    /// State over `store`, starting the writer and the notification worker (call inside
    /// a tokio runtime). Fails when the SMTP settings are unusable.
    pub fn new(config: Config, store: Store) -> Result<AppState, notify::email::EmailError> {
        store.set_read_time_limit(config.read_time_limit);
        let metrics = Arc::new(Metrics::default());
        let notify_wake = Arc::new(tokio::sync::Notify::new());
        let worker = notify::OutboxWorker::new(&config, store.clone(), notify_wake.clone())?;
        tokio::spawn(worker.run());
        let writer = IngestWriter::start(
            store.clone(),
            metrics.clone(),
            config.batch_max,
            crate::store::Alerting {
                default_throttle: std::time::Duration::from_secs(
                    config.notify_window_minutes.saturating_mul(60),
                ),
            },
            notify_wake.clone(),
        );
        let check_ins = CheckInWriter::start(
            store.clone(),
            config.max_monitors_per_project,
            notify_wake.clone(),
        );
        Ok(Arc::new(AppInner {
            store,
            writer,
            check_ins,
            limiter: RateLimiter::default(),
            metrics,
            notify_wake,
            sign_in_throttle: SignInThrottle::default(),
            in_flight: InFlight::new(config.max_bytes_in_flight),
            decoders: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
            rejections: Rejections::default(),
            symbolicator: crate::pipeline::symbolicate::Symbolicator::new(
                config.symbol_cache_dir.clone(),
            ),
            config,
        }))
    }
}
