//! The reporter: configuration, the queue into the background worker, and the handle the
//! app keeps.

use std::sync::Arc;
use std::time::Duration;

use mayday_protocol::{Dsn, DsnError, Event, EventId, Level, Timestamp};

use crate::build_info::BuildInfo;
use crate::failure::{CapturedError, Failure};
use crate::frames::InAppRules;
use crate::hook;
use crate::layer::ReporterLayer;
use crate::request::RequestSnapshot;
use crate::scope::{DEFAULT_MAX_BREADCRUMBS, ScopeData};
use crate::scrub::Scrubber;
use crate::transport::{Capture, Stats, Transport};

/// Changes or drops an event before it is sent; see [`ReporterBuilder::before_send`].
pub type BeforeSend = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;

/// Why a reporter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    /// A DSN did not parse.
    #[error("invalid DSN {dsn:?}: {source}")]
    InvalidDsn {
        /// The DSN as given.
        dsn: String,
        /// What is wrong with it.
        #[source]
        source: DsnError,
    },
    /// The worker thread or its runtime could not start.
    #[error("could not start the reporter's worker: {0}")]
    Worker(#[from] std::io::Error),
}

/// Settings shared by the layer, the scopes and the worker.
pub(crate) struct Config {
    pub(crate) dsns: Vec<Dsn>,
    pub(crate) build: BuildInfo,
    /// The app crate's name as paths spell it (`axum_app`).
    pub(crate) app_crate: String,
    pub(crate) release: String,
    pub(crate) environment: String,
    pub(crate) server_name: Option<String>,
    pub(crate) scrubber: Scrubber,
    pub(crate) in_app: InAppRules,
    pub(crate) send_ip: bool,
    pub(crate) max_breadcrumbs: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) retry_for: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) before_send: Option<BeforeSend>,
    pub(crate) sample_rate: f64,
    pub(crate) ignore_errors: Vec<String>,
    pub(crate) ignore_panics: Vec<String>,
    pub(crate) storm_limit: u32,
    pub(crate) abort_deadline: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("dsns", &self.dsns)
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("sample_rate", &self.sample_rate)
            .field("storm_limit", &self.storm_limit)
            .field("before_send", &self.before_send.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: Arc<Config>,
    transport: Transport,
}

impl Drop for Inner {
    fn drop(&mut self) {
        hook::unregister();
    }
}

/// The handle an app keeps: cheap to clone, shared by every layer and scope.
///
/// With no DSN it is disabled: layers pass requests straight through and captures are
/// ignored, so the same code runs in development without a collector.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    pub(crate) inner: Option<Arc<Inner>>,
}

impl Reporter {
    /// Starts building a reporter for the app described by `build`.
    pub fn builder(build: BuildInfo) -> ReporterBuilder {
        ReporterBuilder::new(build)
    }

    /// A reporter configured from the environment:
    ///
    /// - `MAYDAY_DSN` (or `SENTRY_DSN` when unset): one DSN, or several separated by
    ///   commas or spaces to send every event to each; empty or unset disables reporting;
    /// - `MAYDAY_ENVIRONMENT` (default `production` in release builds, `development`
    ///   otherwise);
    /// - `MAYDAY_RELEASE` (default `name@version[+commit]` from `build`);
    /// - `MAYDAY_SEND_IP=1` to include client IP addresses.
    ///
    /// ```
    /// let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;
    /// # Ok::<(), mayday_reporter::ReporterError>(())
    /// ```
    pub fn from_env(build: BuildInfo) -> Result<Self, ReporterError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut builder = ReporterBuilder::new(build);
        if let Some(dsns) = var("MAYDAY_DSN").or_else(|| var("SENTRY_DSN")) {
            for dsn in dsns
                .split([',', ' ', '\n'])
                .filter(|d| !d.trim().is_empty())
            {
                builder = builder.dsn(dsn.trim());
            }
        }
        if let Some(environment) = var("MAYDAY_ENVIRONMENT") {
            builder = builder.environment(environment);
        }
        if let Some(release) = var("MAYDAY_RELEASE") {
            builder = builder.release(release);
        }
        if let Some(send_ip) = var("MAYDAY_SEND_IP") {
            builder = builder.send_ip(matches!(send_ip.as_str(), "1" | "true" | "yes"));
        }
        builder.build()
    }

    /// A reporter that reports nothing.
    pub fn disabled() -> Self {
        Reporter { inner: None }
    }

    /// Whether events are sent anywhere.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The tower layer that reports panics and 5xx responses of the service it wraps.
    pub fn layer(&self) -> ReporterLayer {
        ReporterLayer::new(self.clone())
    }

    /// Reports an error, with no request context. Returns the event's id when it was
    /// queued (`None` when reporting is off or the queue is full).
    pub fn capture_error<E>(&self, error: &E) -> Option<EventId>
    where
        E: std::error::Error + ?Sized + 'static,
    {
        self.enqueue(
            Failure::Error(CapturedError::from_error(error)),
            None,
            ScopeData::default(),
        )
    }

    /// Reports a message, with no request context; returns the event's id when queued.
    pub fn capture_message(&self, message: impl Into<String>, level: Level) -> Option<EventId> {
        self.enqueue(
            Failure::Message {
                text: message.into(),
                level,
            },
            None,
            ScopeData::default(),
        )
    }

    /// Waits until everything queued so far is delivered (or given up), or `timeout`
    /// passes. Returns whether everything was done in time.
    ///
    /// Call it before the process exits, so the last events are not lost. Failures held
    /// back by storm control are sent (as one summary each) first.
    pub async fn flush(&self, timeout: Duration) -> bool {
        match &self.inner {
            Some(inner) => inner.transport.flush(timeout).await,
            None => true,
        }
    }

    /// [`flush`](Self::flush) for code that is not async: blocks the calling thread
    /// until everything queued is delivered or `timeout` passes.
    ///
    /// ```
    /// let reporter = mayday_reporter::Reporter::disabled();
    /// // ... at the end of `main`, or before `std::process::exit`:
    /// assert!(reporter.flush_blocking(std::time::Duration::from_secs(2)));
    /// ```
    pub fn flush_blocking(&self, timeout: Duration) -> bool {
        match &self.inner {
            Some(inner) => inner.transport.flush_blocking(timeout),
            None => true,
        }
    }

    /// A guard that flushes (blocking, for at most `timeout`) when dropped: keep it alive
    /// for the whole of `main` so that the last events are delivered on every way out,
    /// including an error returned from `main`.
    ///
    /// ```no_run
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;
    ///     let _guard = reporter.guard(std::time::Duration::from_secs(2));
    ///     // ... run the app ...
    ///     Ok(())
    /// }
    /// ```
    pub fn guard(&self, timeout: Duration) -> FlushGuard {
        FlushGuard {
            reporter: self.clone(),
            timeout,
        }
    }

    /// How long the panic hook waits for delivery when the build aborts on panic.
    pub(crate) fn abort_deadline(&self) -> Duration {
        self.inner
            .as_ref()
            .map_or(Duration::ZERO, |i| i.config.abort_deadline)
    }

    /// Counters: queued, sent, dropped, failed, rate-limited.
    pub fn stats(&self) -> Stats {
        self.inner
            .as_ref()
            .map(|inner| inner.transport.stats())
            .unwrap_or_default()
    }

    pub(crate) fn max_breadcrumbs(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(DEFAULT_MAX_BREADCRUMBS, |i| i.config.max_breadcrumbs)
    }

    pub(crate) fn send_ip(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.config.send_ip)
    }

    /// Queues a report; never waits. Returns the event's id, or `None` when disabled or
    /// the queue is full.
    pub(crate) fn enqueue(
        &self,
        failure: Failure,
        request: Option<Arc<RequestSnapshot>>,
        data: ScopeData,
    ) -> Option<EventId> {
        let inner = self.inner.as_ref()?;
        let event_id = EventId::new();
        inner
            .transport
            .try_send(Capture {
                event_id,
                failure,
                timestamp: Timestamp::now(),
                request,
                data,
                repeats: 0,
            })
            .then_some(event_id)
    }
}

/// Flushes its reporter when dropped; made by [`Reporter::guard`].
#[derive(Debug)]
#[must_use = "the guard flushes when it is dropped: keep it in a variable such as `_guard`"]
pub struct FlushGuard {
    reporter: Reporter,
    timeout: Duration,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.reporter.flush_blocking(self.timeout);
    }
}

/// Builds a [`Reporter`]; every setting has a default that suits most apps.
pub struct ReporterBuilder {
    dsns: Vec<String>,
    build: BuildInfo,
    release: Option<String>,
    environment: Option<String>,
    server_name: Option<String>,
    scrub_extra: Vec<String>,
    in_app: InAppRules,
    send_ip: bool,
    max_breadcrumbs: usize,
    queue_capacity: usize,
    max_in_flight: usize,
    retry_for: Duration,
    request_timeout: Duration,
    before_send: Option<BeforeSend>,
    sample_rate: f64,
    ignore_errors: Vec<String>,
    ignore_panics: Vec<String>,
    storm_limit: u32,
    abort_deadline: Duration,
}

impl std::fmt::Debug for ReporterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReporterBuilder")
            .field("dsns", &self.dsns)
            .field("build", &self.build)
            .field("sample_rate", &self.sample_rate)
            .field("storm_limit", &self.storm_limit)
            .finish_non_exhaustive()
    }
}

/// Default of [`ReporterBuilder::storm_limit`].
pub const DEFAULT_STORM_LIMIT: u32 = 60;

impl ReporterBuilder {
    fn new(build: BuildInfo) -> Self {
        ReporterBuilder {
            dsns: Vec::new(),
            build,
            release: None,
            environment: None,
            server_name: None,
            scrub_extra: Vec::new(),
            in_app: InAppRules::default(),
            send_ip: false,
            max_breadcrumbs: DEFAULT_MAX_BREADCRUMBS,
            queue_capacity: 1024,
            max_in_flight: 4,
            retry_for: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            before_send: None,
            sample_rate: 1.0,
            ignore_errors: Vec::new(),
            ignore_panics: Vec::new(),
            storm_limit: DEFAULT_STORM_LIMIT,
            abort_deadline: Duration::from_secs(2),
        }
    }

    /// Adds a DSN to send events to. Several DSNs each get every event.
    pub fn dsn(mut self, dsn: impl Into<String>) -> Self {
        self.dsns.push(dsn.into());
        self
    }

    /// The release, instead of `name@version[+commit]`.
    pub fn release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// The environment, such as `staging`.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The server name, instead of the host name.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// More header and query parameter names to filter, besides the defaults.
    pub fn scrub_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scrub_extra.extend(names.into_iter().map(Into::into));
        self
    }

    /// A crate whose frames are in-app wherever its code is, besides the app's
    /// workspace (a crate of your own from a registry, say).
    pub fn in_app_include(mut self, krate: impl Into<String>) -> Self {
        self.in_app.include.push(krate.into());
        self
    }

    /// A crate whose frames are never in-app, even when its code is in your workspace.
    pub fn in_app_exclude(mut self, krate: impl Into<String>) -> Self {
        self.in_app.exclude.push(krate.into());
        self
    }

    /// Send the client's IP address (from `X-Forwarded-For` or the connection). Off by
    /// default: an IP address is personal data.
    pub fn send_ip(mut self, yes: bool) -> Self {
        self.send_ip = yes;
        self
    }

    /// Breadcrumbs kept per request (default 100).
    pub fn max_breadcrumbs(mut self, max: usize) -> Self {
        self.max_breadcrumbs = max;
        self
    }

    /// Reports waiting to be sent (default 1024). When full, new reports are dropped
    /// and counted rather than making the app wait.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Requests to the collector in flight at once (default 4).
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// How long to keep retrying one delivery after network errors and 5xx (default 30 s).
    pub fn retry_for(mut self, duration: Duration) -> Self {
        self.retry_for = duration;
        self
    }

    /// Timeout of one request to the collector (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Changes or drops each event just before it is sent (in the worker thread, after
    /// scrubbing): return `None` to drop it.
    ///
    /// ```
    /// let builder = mayday_reporter::Reporter::builder(mayday_reporter::build_info!())
    ///     .before_send(|mut event| {
    ///         // Nothing from the health checks.
    ///         if event.transaction.as_deref() == Some("GET /healthz") {
    ///             return None;
    ///         }
    ///         event.tags.get_or_insert_with(Default::default).insert("team".into(), "shop".into());
    ///         Some(event)
    ///     });
    /// ```
    pub fn before_send<F>(mut self, hook: F) -> Self
    where
        F: Fn(Event) -> Option<Event> + Send + Sync + 'static,
    {
        self.before_send = Some(Arc::new(hook));
        self
    }

    /// The share of failures reported, from 0.0 (none) to 1.0 (all, the default).
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = if rate.is_nan() {
            1.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Never reports errors of this type, anywhere in their `source()` chain: by name
    /// (`Elapsed`) or by path (`tokio::time::error::Elapsed`).
    pub fn ignore_error(mut self, type_name: impl Into<String>) -> Self {
        self.ignore_errors.push(type_name.into());
        self
    }

    /// Never reports panics whose message contains `text`.
    pub fn ignore_panic(mut self, text: impl Into<String>) -> Self {
        self.ignore_panics.push(text.into());
        self
    }

    /// Storm control: the same failure (same place, same kind) more than `per_minute`
    /// times in a minute is sent as one more event carrying the count (in
    /// `extra["mayday.repeated"]`) instead of one event each. Default 60; 0 turns it off.
    pub fn storm_limit(mut self, per_minute: u32) -> Self {
        self.storm_limit = per_minute;
        self
    }

    /// With `panic = "abort"`, how long the panic hook waits for the panic's event to be
    /// delivered before the process aborts (default 2 s).
    pub fn abort_deadline(mut self, deadline: Duration) -> Self {
        self.abort_deadline = deadline;
        self
    }

    /// Builds the reporter and starts its worker; disabled when no DSN was given.
    pub fn build(self) -> Result<Reporter, ReporterError> {
        let dsns = self
            .dsns
            .iter()
            .map(|dsn| {
                dsn.parse::<Dsn>()
                    .map_err(|source| ReporterError::InvalidDsn {
                        dsn: dsn.clone(),
                        source,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if dsns.is_empty() {
            return Ok(Reporter::disabled());
        }
        let config = Arc::new(Config {
            dsns,
            release: self.release.unwrap_or_else(|| self.build.release()),
            environment: self.environment.unwrap_or_else(|| {
                if cfg!(debug_assertions) {
                    "development".into()
                } else {
                    "production".into()
                }
            }),
            server_name: self
                .server_name
                .or_else(|| gethostname::gethostname().into_string().ok()),
            app_crate: self.build.crate_ident(),
            build: self.build,
            scrubber: Scrubber::default().with_extra(self.scrub_extra),
            in_app: self.in_app,
            send_ip: self.send_ip,
            max_breadcrumbs: self.max_breadcrumbs,
            queue_capacity: self.queue_capacity,
            max_in_flight: self.max_in_flight,
            retry_for: self.retry_for,
            request_timeout: self.request_timeout,
            before_send: self.before_send,
            sample_rate: self.sample_rate,
            ignore_errors: self.ignore_errors,
            ignore_panics: self.ignore_panics,
            storm_limit: self.storm_limit,
            abort_deadline: self.abort_deadline,
        });
        let transport = Transport::start(config.clone())?;
        let inner = Arc::new(Inner { config, transport });
        hook::register(&inner);
        Ok(Reporter { inner: Some(inner) })
    }
}
