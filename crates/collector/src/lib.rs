//! The Mayday collector: receives events over Sentry's protocol, groups them into issues,
//! stores them in SQLite or PostgreSQL, notifies, and serves a web UI and a JSON API.
//!
//! Three layers (see `docs/architecture.md`): the edges ([`ingest`], [`web`], [`api`],
//! [`cli`], [`scheduler`]) parse requests and render answers or run what is due; the
//! domain ([`accounts`], [`access`], [`issues`], [`grouping`], [`notify`], [`monitors`])
//! holds the rules; [`store`] holds every query.
//! Edges call the domain and the store, never each other.

pub mod access;
pub mod accounts;
pub mod api;
pub mod audit;
pub mod cli;
pub mod config;
pub mod encode;
pub mod error;
pub mod grouping;
pub mod ingest;
pub mod issues;
pub mod metrics;
pub mod monitors;
pub mod notify;
pub mod outbound;
pub mod outreach;
pub mod release;
pub mod scheduler;
pub mod search;
pub mod store;
pub mod web;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use config::Config;
use ingest::rate_limit::RateLimiter;
use ingest::writer::IngestWriter;
use metrics::Metrics;
use store::Store;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppInner {
    /// Settings.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The group-commit writer.
    pub writer: IngestWriter,
    /// Per-key rate limits.
    pub limiter: RateLimiter,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes the notification worker when ingest queued notifications.
    pub notify_wake: Arc<tokio::sync::Notify>,
    /// Slows down repeated failed sign-ins.
    pub sign_in_throttle: web::throttle::SignInThrottle,
    /// Bytes of request bodies held at once.
    pub in_flight: Arc<ingest::body::InFlight>,
    /// Bodies being decompressed at once.
    pub decoders: Arc<tokio::sync::Semaphore>,
    /// Events turned away (bad key, rate limit), per project, for the last hour.
    pub rejections: ingest::rejections::Rejections,
}

/// Shared state of the HTTP server.
pub type AppState = Arc<AppInner>;

impl AppInner {
    /// State over `store`, starting the writer and the notification worker (call inside
    /// a tokio runtime). Fails when the SMTP settings are unusable.
    pub fn new(config: Config, store: Store) -> Result<AppState, notify::email::EmailError> {
        let metrics = Arc::new(Metrics::default());
        let notify_wake = Arc::new(tokio::sync::Notify::new());
        let worker = notify::OutboxWorker::new(&config, store.clone(), notify_wake.clone())?;
        tokio::spawn(worker.run());
        let writer = IngestWriter::start(
            store.clone(),
            metrics.clone(),
            config.batch_max,
            notify_wake.clone(),
        );
        Ok(Arc::new(AppInner {
            store,
            writer,
            limiter: RateLimiter::default(),
            metrics,
            notify_wake,
            sign_in_throttle: web::throttle::SignInThrottle::default(),
            in_flight: ingest::body::InFlight::new(config.max_bytes_in_flight),
            decoders: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
            rejections: ingest::rejections::Rejections::default(),
            config,
        }))
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ingest::routes())
        .merge(api::routes())
        .merge(web::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": state.store.backend_name()}))
            .into_response(),
        Err(error) => {
            state.metrics.database_errors.inc();
            tracing::error!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "detail": "database does not answer"})),
            )
                .into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = state
        .config
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Digests compared, so that the time taken says nothing about the token.
        if accounts::token_hash(given) != accounts::token_hash(token) {
            let mut error = error::ApiError::new(
                StatusCode::UNAUTHORIZED,
                "metrics need `Authorization: Bearer <MAYDAY_METRICS_TOKEN>`",
            );
            error
                .headers
                .push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            return error.into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("no such endpoint")
}

/// Brings back ignored issues whose snooze date has passed, every `every` (issues
/// snoozed by events or users come back at ingest).
pub fn spawn_snooze_wake(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match state.store.wake_snoozed(store::now_ms()).await {
                Ok(0) => {}
                Ok(woken) => tracing::info!(woken, "snoozed issues are back"),
                Err(error) => tracing::warn!(%error, "waking snoozed issues failed"),
            }
        }
    });
}

/// Sends the "it's fixed" follow-ups whose fix went live (a newer release reported from
/// the issue's environment), looking every `every`.
pub fn spawn_fix_watch(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match outreach::check_fixes(&state.store, store::now_ms()).await {
                Ok(0) => {}
                Ok(sent) => {
                    tracing::info!(sent, "fixes are live: follow-ups queued");
                    state.notify_wake.notify_one();
                }
                Err(error) => tracing::warn!(%error, "checking for live fixes failed"),
            }
        }
    });
}

/// Deletes old events (keeping counts) and old monitor results now and then.
pub fn spawn_retention(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let max_age = i64::try_from(state.config.retention_days)
                .unwrap_or(i64::MAX / 86_400_000)
                .saturating_mul(86_400_000);
            match state.store.purge_expired_sessions().await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired sessions removed"),
                Err(error) => tracing::warn!(%error, "removing expired sessions failed"),
            }
            // Check-ins and checks are kept as long as events.
            match state
                .store
                .prune_monitor_results(store::now_ms().saturating_sub(max_age))
                .await
            {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "retention removed old monitor results"),
                Err(error) => tracing::warn!(%error, "removing old monitor results failed"),
            }
            match state
                .store
                .apply_retention(state.config.retention_events_per_issue, max_age)
                .await
            {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "retention removed old events"),
                Err(error) => {
                    state.metrics.database_errors.inc();
                    tracing::warn!(%error, "retention failed");
                }
            }
        }
    });
}
