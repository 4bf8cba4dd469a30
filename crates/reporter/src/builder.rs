//! Building a reporter: from the environment or by builder methods, each with a default
//! that suits most apps; building starts the worker and installs the panic hook.

use std::sync::Arc;
use std::time::Duration;

use mayday_protocol::{Dsn, DsnError, Event};

use crate::build_info::BuildInfo;
use crate::client::{Client, Reporter};
use crate::config::{BeforeSend, Config, DEFAULT_MAX_BREADCRUMBS};
use crate::frames::InAppRules;
use crate::hook;
use crate::scrub::Scrubber;
use crate::transport::Transport;

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
    /// An environment variable holds a value the setting does not take.
    #[error("{name}={value:?} is not valid: {expected}")]
    InvalidSetting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
}

/// A yes/no environment variable: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off`,
/// in any case (as the collector's settings).
fn yes_or_no(name: &'static str, value: &str) -> Result<bool, ReporterError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ReporterError::InvalidSetting {
            name,
            value: value.to_owned(),
            expected: "1 or 0, true or false, yes or no, on or off",
        }),
    }
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
    /// - `MAYDAY_SEND_IP=1` (or `true`, `yes`, `on`) to include client IP addresses.
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
            builder = builder.send_ip(yes_or_no("MAYDAY_SEND_IP", &send_ip)?);
        }
        if let Some(counts) = var("MAYDAY_REQUEST_COUNTS") {
            builder = builder.request_counts(yes_or_no("MAYDAY_REQUEST_COUNTS", &counts)?);
        }
        builder.build()
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
    request_counts: bool,
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
            request_counts: true,
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

    /// Count every request per route and outcome (ok, 5xx, panic) and send the counts
    /// each minute and at a flush, for the collector's release health and deploy
    /// check. On by default (a few atomic additions per request); `false` (or
    /// `MAYDAY_REQUEST_COUNTS=0`) turns it off.
    pub fn request_counts(mut self, yes: bool) -> Self {
        self.request_counts = yes;
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
            tracing::info!("no DSN (MAYDAY_DSN): crashes are not reported");
            return Ok(Reporter::disabled());
        }
        for dsn in &dsns {
            // Where events go, said once at start: a wrong DSN is seen before it matters.
            let port = dsn.port().map(|p| format!(":{p}")).unwrap_or_default();
            tracing::info!(
                "reporting to {}://{}{port} (project {})",
                dsn.scheme(),
                dsn.host(),
                dsn.project_id()
            );
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
            request_counts: self.request_counts,
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
        let inner = Arc::new(Client::new(config, transport));
        hook::register(&inner);
        Ok(Reporter { inner: Some(inner) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_as_people_write_them() {
        for yes in ["1", "true", "Yes", "ON"] {
            assert!(yes_or_no("MAYDAY_SEND_IP", yes).unwrap(), "{yes}");
        }
        for no in ["0", "false", "no", "Off"] {
            assert!(!yes_or_no("MAYDAY_SEND_IP", no).unwrap(), "{no}");
        }
        let error = yes_or_no("MAYDAY_SEND_IP", "sometimes").unwrap_err();
        assert_eq!(
            error.to_string(),
            "MAYDAY_SEND_IP=\"sometimes\" is not valid: 1 or 0, true or false, yes or no, on or off"
        );
    }
}
