//! The reporter: configuration, the queue into the background worker, and the handle the
//! app keeps.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use mayday_protocol::{Dsn, DsnError, Level, Timestamp};

use crate::build_info::BuildInfo;
use crate::capture::RequestSnapshot;
use crate::capture::{self, Capture, CapturedError, Failure, PanicCapture};
use crate::frames::InAppRules;
use crate::layer::ReporterLayer;
use crate::scope::{DEFAULT_MAX_BREADCRUMBS, ScopeData};
use crate::scrub::Scrubber;
use crate::transport::{Stats, Transport};

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
#[derive(Debug)]
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
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: Arc<Config>,
    transport: Transport,
}

/// The handle an app keeps: cheap to clone, shared by every layer and scope.
///
/// With no DSN it is disabled: layers pass requests straight through and captures are
/// ignored, so the same code runs in development without a collector.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    pub(crate) inner: Option<Arc<Inner>>,
}

/// Live reporters, for panics outside any request and for the free capture functions.
/// The one process-wide registry, alongside the panic hook that reads it.
static REGISTRY: Mutex<Vec<Weak<Inner>>> = Mutex::new(Vec::new());

fn live_reporters() -> Vec<Arc<Inner>> {
    let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    registry.retain(|weak| weak.strong_count() > 0);
    registry.iter().filter_map(Weak::upgrade).collect()
}

/// Reports a panic that happened outside any reporter layer (a thread, a detached task).
pub(crate) fn report_detached_panic(panic: PanicCapture) {
    broadcast(&Failure::Panic(panic));
}

/// Reports an error to every live reporter, from anywhere in the app.
///
/// Returns whether at least one reporter queued it.
pub fn capture_error<E>(error: &E) -> bool
where
    E: std::error::Error + ?Sized + 'static,
{
    let failure = Failure::Error(CapturedError::from_error(error));
    broadcast(&failure)
}

/// Queues `failure` on every live reporter (not stopping at the first).
fn broadcast(failure: &Failure) -> bool {
    let queued = live_reporters()
        .into_iter()
        .filter(|inner| {
            Reporter {
                inner: Some(inner.clone()),
            }
            .enqueue(failure.clone(), None, ScopeData::default())
        })
        .count();
    queued > 0
}

/// Reports a message to every live reporter, from anywhere in the app.
pub fn capture_message(message: &str, level: Level) -> bool {
    broadcast(&Failure::Message {
        text: message.to_owned(),
        level,
    })
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

    /// Reports an error, with no request context.
    pub fn capture_error<E>(&self, error: &E) -> bool
    where
        E: std::error::Error + ?Sized + 'static,
    {
        self.enqueue(
            Failure::Error(CapturedError::from_error(error)),
            None,
            ScopeData::default(),
        )
    }

    /// Reports a message, with no request context.
    pub fn capture_message(&self, message: impl Into<String>, level: Level) -> bool {
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
    /// Call it before the process exits, so the last events are not lost.
    pub async fn flush(&self, timeout: Duration) -> bool {
        match &self.inner {
            Some(inner) => inner.transport.flush(timeout).await,
            None => true,
        }
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

    /// Queues a report; never waits. Returns false when disabled or the queue is full.
    pub(crate) fn enqueue(
        &self,
        failure: Failure,
        request: Option<Arc<RequestSnapshot>>,
        data: ScopeData,
    ) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        inner.transport.try_send(Capture {
            failure,
            timestamp: Timestamp::now(),
            request,
            data,
        })
    }
}

/// Builds a [`Reporter`]; every setting has a default that suits most apps.
#[derive(Debug)]
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
}

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
        });
        let transport = Transport::start(config.clone())?;
        let inner = Arc::new(Inner { config, transport });
        REGISTRY
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(&inner));
        capture::install_panic_hook();
        Ok(Reporter { inner: Some(inner) })
    }
}
