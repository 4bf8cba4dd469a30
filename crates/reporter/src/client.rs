//! The handle an app keeps ([`Reporter`]) and what it holds: the settings and the queue
//! into the background worker. Every capture ends in [`Reporter::enqueue`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mayday_protocol::{EventId, Level, Timestamp};

use crate::capture::{Capture, ScopeData};
use crate::config::{Config, DEFAULT_MAX_BREADCRUMBS};
use crate::failure::{CapturedError, Failure};
use crate::request::RequestSnapshot;
use crate::transport::{Stats, Transport};

/// How many reporters are live: a cheap check before capturing anything.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Whether any reporter is live (and capturing a backtrace can be worth it).
pub(crate) fn any_live() -> bool {
    LIVE.load(Ordering::Relaxed) > 0
}

/// What an enabled reporter holds: its settings and its queue.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) config: Arc<Config>,
    transport: Transport,
}

impl Client {
    pub(crate) fn new(config: Arc<Config>, transport: Transport) -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Client { config, transport }
    }
}

impl Client {
    /// Queues a check-in (see [`crate::cron`]); never waits.
    pub(crate) fn send_check_in(&self, check_in: mayday_protocol::CheckIn) -> bool {
        self.transport.try_send_check_in(check_in)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The handle an app keeps: cheap to clone, shared by every layer and scope.
///
/// With no DSN it is disabled: layers pass requests straight through and captures are
/// ignored, so the same code runs in development without a collector.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    pub(crate) inner: Option<Arc<Client>>,
}

impl Reporter {
    /// A reporter that reports nothing.
    pub fn disabled() -> Self {
        Reporter { inner: None }
    }

    /// Whether events are sent anywhere.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
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

    /// Sends what a person wrote about a failure (`user_report`): `event_id` is the
    /// event it is about (the id the error page showed them). Returns whether it was
    /// queued (false when reporting is off or the queue is full); never waits.
    ///
    /// ```
    /// use mayday_reporter::{Feedback, Reporter};
    ///
    /// let reporter = Reporter::disabled();
    /// let sent = reporter.capture_feedback(Feedback {
    ///     event_id: None,
    ///     name: Some("Jane Doe".into()),
    ///     email: Some("jane@example.com".into()),
    ///     message: "I was applying a coupon".into(),
    /// });
    /// assert!(!sent, "a disabled reporter sends nothing");
    /// ```
    pub fn capture_feedback(&self, feedback: Feedback) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        let payload = serde_json::json!({
            "event_id": feedback.event_id.map(|id| id.to_string()),
            "name": feedback.name,
            "email": feedback.email,
            "comments": feedback.message,
        });
        match serde_json::to_vec(&payload) {
            Ok(payload) => inner.transport.try_send_feedback(payload),
            Err(_) => false,
        }
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

    /// Whether requests are counted (release health).
    #[cfg(feature = "actix")]
    pub(crate) fn counts_requests(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.transport.requests.is_some())
    }

    /// The counter of `method` on route `path`, when requests are counted.
    pub(crate) fn request_counter(
        &self,
        method: &str,
        path: &str,
    ) -> Option<Arc<crate::request_counts::RouteCounter>> {
        let counts = self.inner.as_ref()?.transport.requests.as_ref()?;
        Some(counts.counter(method, path))
    }

    /// Each route's counts since the last take, reset (tests read what the layer
    /// counted without a collector).
    #[cfg(test)]
    pub(crate) fn take_request_counts(&self) -> Vec<crate::request_counts::Taken> {
        self.inner
            .as_ref()
            .and_then(|i| i.transport.requests.as_ref())
            .map(|c| c.take())
            .unwrap_or_default()
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

/// What a person a failure hit wrote about it: [`Reporter::capture_feedback`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feedback {
    /// The event it is about.
    pub event_id: Option<EventId>,
    /// Their name, as they gave it.
    pub name: Option<String>,
    /// Their email, as they gave it (so the team can write back).
    pub email: Option<String>,
    /// What they wrote.
    pub message: String,
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
