//! Cron jobs and other scheduled work: check-ins, so that the collector knows a job ran,
//! failed, or did not run at all (a missed or timed-out check-in notifies the team).
//!
//! [`Reporter::monitor`] wraps a job: it sends `in_progress` when the job starts, then
//! `ok` or `error` with the time it took; [`Reporter::check_in`] sends one check-in.
//! Check-ins are Sentry `check_in` envelope items, delivered in the background by the
//! same worker as events (never waited for), with the reporter's release and
//! environment. A [`MonitorConfig`] creates or updates the monitor on the collector, so
//! the schedule lives with the job's code.
//!
//! ```no_run
//! use mayday_reporter::{MonitorConfig, Reporter, Schedule};
//!
//! # fn export() -> Result<(), std::io::Error> { Ok(()) }
//! let reporter = Reporter::from_env(mayday_reporter::build_info!())?;
//! let nightly = reporter.monitor(
//!     "nightly-export",
//!     MonitorConfig::new(Schedule::Crontab { value: "0 3 * * *".into() }),
//! );
//! let result = nightly.run(|| export());
//! reporter.flush_blocking(std::time::Duration::from_secs(5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::time::Instant;

use mayday_protocol::{CheckIn, EventId};
pub use mayday_protocol::{CheckInStatus, IntervalUnit, MonitorConfig, Schedule};

use crate::client::Reporter;

/// How a job's result counts: `Ok` and `()` and `true` are a success.
pub trait JobOutcome {
    /// Whether the run went well.
    fn succeeded(&self) -> bool;
}

impl<T, E> JobOutcome for Result<T, E> {
    fn succeeded(&self) -> bool {
        self.is_ok()
    }
}

impl JobOutcome for () {
    fn succeeded(&self) -> bool {
        true
    }
}

impl JobOutcome for bool {
    fn succeeded(&self) -> bool {
        *self
    }
}

impl Reporter {
    /// Sends one check-in for the monitor `slug` (created on the collector by its first
    /// check-in with a configuration, see [`Reporter::monitor`]). Returns the check-in's
    /// id (to end an `in_progress` run with [`Reporter::finish_check_in`]) when it was
    /// queued; `None` when reporting is off or the queue is full.
    pub fn check_in(&self, slug: &str, status: CheckInStatus) -> Option<String> {
        self.send_check_in(slug, status, None, None, None)
    }

    /// Ends the run `check_in_id` started with `status` (`ok` or `error`) after
    /// `duration`.
    pub fn finish_check_in(
        &self,
        slug: &str,
        check_in_id: &str,
        status: CheckInStatus,
        duration: std::time::Duration,
    ) -> bool {
        self.send_check_in(
            slug,
            status,
            Some(check_in_id.to_owned()),
            Some(duration),
            None,
        )
        .is_some()
    }

    /// A monitored job: [`Monitor::run`] (or [`Monitor::run_async`]) sends
    /// `in_progress`, runs it, then sends `ok` or `error` with how long it took. The
    /// configuration travels with the first check-in, creating or updating the monitor.
    pub fn monitor(&self, slug: impl Into<String>, config: MonitorConfig) -> Monitor {
        Monitor {
            reporter: self.clone(),
            slug: slug.into(),
            config: Some(config),
        }
    }

    fn send_check_in(
        &self,
        slug: &str,
        status: CheckInStatus,
        check_in_id: Option<String>,
        duration: Option<std::time::Duration>,
        config: Option<MonitorConfig>,
    ) -> Option<String> {
        let inner = self.inner.as_ref()?;
        let id = check_in_id.unwrap_or_else(|| EventId::new().to_string());
        let check_in = CheckIn {
            check_in_id: Some(id.clone()),
            monitor_slug: slug.to_owned(),
            status,
            duration: duration.map(|d| d.as_secs_f64()),
            environment: Some(inner.config.environment.clone()),
            release: Some(inner.config.release.clone()),
            monitor_config: config,
        };
        inner.send_check_in(check_in).then_some(id)
    }
}

/// A job watched by a cron monitor; made by [`Reporter::monitor`].
#[derive(Debug, Clone)]
pub struct Monitor {
    reporter: Reporter,
    slug: String,
    config: Option<MonitorConfig>,
}

impl Monitor {
    /// Runs `job`, sending `in_progress` before and `ok` or `error` (with the duration)
    /// after. A panic counts as `error`, and goes on unwinding.
    pub fn run<R: JobOutcome>(&self, job: impl FnOnce() -> R) -> R {
        let (id, started) = self.start();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        let succeeded = outcome.as_ref().is_ok_and(JobOutcome::succeeded);
        self.end(id, started, succeeded);
        match outcome {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// [`run`](Self::run) for an async job.
    pub async fn run_async<R: JobOutcome>(&self, job: impl Future<Output = R>) -> R {
        let (id, started) = self.start();
        let result = job.await;
        self.end(id, started, result.succeeded());
        result
    }

    fn start(&self) -> (Option<String>, Instant) {
        let id = self.reporter.send_check_in(
            &self.slug,
            CheckInStatus::InProgress,
            None,
            None,
            self.config.clone(),
        );
        (id, Instant::now())
    }

    fn end(&self, id: Option<String>, started: Instant, succeeded: bool) {
        let status = if succeeded {
            CheckInStatus::Ok
        } else {
            CheckInStatus::Error
        };
        self.reporter.send_check_in(
            &self.slug,
            status,
            id,
            Some(started.elapsed()),
            self.config.clone(),
        );
    }
}
