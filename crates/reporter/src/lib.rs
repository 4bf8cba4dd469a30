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
#[cfg(all(test, feature = "actix"))]
mod actix_counting_tests;
#[cfg(feature = "axum")]
mod axum_parts;
mod body;
mod build_info;
mod builder;
mod capture;
mod client;
mod config;
pub mod cron;
mod debug_images;
mod error;
mod error_page;
mod event_id;
mod failure;
pub mod frames;
mod hook;
mod report;
mod request;
mod request_counts;
mod scope;
pub mod scrub;
mod spawn;
mod tower;
#[cfg(feature = "tracing")]
mod tracing_layer;
mod transport;

pub use body::BodyCapture;
pub use build_info::{ACTIX_VERSION, AXUM_VERSION, BuildInfo, PROFILE, RUSTC_VERSION, TARGET};
pub use builder::{DEFAULT_STORM_LIMIT, ReporterBuilder, ReporterError};
pub use client::{Feedback, FlushGuard, Reporter};
pub use config::{BeforeSend, DEFAULT_MAX_BREADCRUMBS};
pub use cron::{CheckInStatus, IntervalUnit, JobOutcome, Monitor, MonitorConfig, Schedule};
pub use error::{BoxError, ErrorReport, Reported};
pub use error_page::ErrorPage;
pub use event_id::EVENT_ID_HEADER;
pub use hook::{capture_error, capture_message};
pub use mayday_protocol::{Breadcrumb, EventId, Level, User};
pub use report::SDK_NAME;
pub use scope::Scope;
pub use spawn::{ScopeExt, WithScope, spawn, spawn_blocking};
pub use tower::{ReporterLayer, ReporterService, ResponseFuture};
#[cfg(feature = "tracing")]
pub use tracing_layer::TracingLayer;
pub use transport::Stats;
