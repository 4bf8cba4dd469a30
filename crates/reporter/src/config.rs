//! The reporter's settings, fixed when it is built and shared (behind an `Arc`) by the
//! request path and the worker.

use std::sync::Arc;
use std::time::Duration;

use mayday_protocol::{Dsn, Event};

use crate::build_info::BuildInfo;
use crate::frames::InAppRules;
use crate::scrub::Scrubber;

/// Breadcrumbs kept per scope; older ones are dropped first.
pub const DEFAULT_MAX_BREADCRUMBS: usize = 100;

/// Changes or drops an event before it is sent; see [`ReporterBuilder::before_send`](crate::ReporterBuilder::before_send).
pub type BeforeSend = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;

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
    /// Whether requests are counted for release health.
    pub(crate) request_counts: bool,
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
