//! Every route of the collector in one router: ingest, the JSON API, the web UI, and
//! the operator's `/healthz` and `/metrics`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;
use crate::{accounts, api, error, ingest, web};

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ingest::routes())
        .merge(api::routes())
        .merge(web::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            transport_security,
        ))
        .with_state(state)
}

/// `Strict-Transport-Security` on every answer when the collector is served over https
/// (see [`crate::config::Config::hsts`]).
async fn transport_security(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Some(value) = state.config.hsts() {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(value),
        );
    }
    response
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

/// Nothing answers this path: JSON for the API and ingest (`/api/...`), a page for a
/// browser anywhere else.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        error::ApiError::not_found("no such endpoint").into_response()
    } else {
        web::not_found_page()
    }
}
