//! Crash reporting for axum apps.
//!
//! Add one layer and every panic in a handler answers 500 (instead of a dropped
//! connection) and becomes an event; every 5xx response becomes an event, carrying the
//! handler's error when it is handed over with [`Reported`] or [`ErrorReport`]. Events
//! carry the request (secrets scrubbed), the signed-in user, build info and the
//! backtrace of the panic site, and are sent in the background to a Mayday collector or
//! any Sentry-compatible server.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;
//! let app = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(reporter.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! reporter.flush(std::time::Duration::from_secs(2)).await;
//! # Ok(()) }
//! ```
//!
//! The request path does as little as it can: it clones the request head, puts a
//! [`Scope`] into the request, and on failure queues a report with an unresolved
//! backtrace (`try_send`; a full queue drops and counts). A worker thread resolves
//! symbols, marks in-app frames, scrubs, compresses and delivers.

#[cfg(feature = "actix")]
pub mod actix;
mod build_info;
mod error;
mod failure;
pub mod frames;
mod future;
mod hook;
mod layer;
mod report;
mod reporter;
mod request;
mod scope;
pub mod scrub;
mod service;
mod spawn;
#[cfg(feature = "tracing")]
mod tracing_layer;
mod transport;

pub use build_info::{ACTIX_VERSION, AXUM_VERSION, BuildInfo, PROFILE, RUSTC_VERSION, TARGET};
pub use error::{BoxError, ErrorReport, Reported};
pub use future::ResponseFuture;
pub use hook::{capture_error, capture_message};
pub use layer::{EVENT_ID_HEADER, ReporterLayer};
pub use mayday_protocol::{Breadcrumb, EventId, Level, User};
pub use report::SDK_NAME;
pub use reporter::{
    BeforeSend, DEFAULT_STORM_LIMIT, FlushGuard, Reporter, ReporterBuilder, ReporterError,
};
pub use scope::{DEFAULT_MAX_BREADCRUMBS, Scope};
pub use service::ReporterService;
pub use spawn::{ScopeExt, WithScope, spawn};
#[cfg(feature = "tracing")]
pub use tracing_layer::TracingLayer;
pub use transport::Stats;
