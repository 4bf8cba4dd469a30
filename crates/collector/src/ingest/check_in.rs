//! Check-ins at the door: `check_in` envelope items, and Sentry's plain HTTP check-in
//! for shell jobs (`GET|POST /api/{project_id}/cron/{monitor_slug}/{public_key}/`, or the
//! key as `sentry_key`), parsed and checked before anything is stored, then recorded by
//! `monitors::check_ins`.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mayday_protocol::{CheckIn, CheckInStatus, MonitorConfig};
use serde::Deserialize;

use super::{Category, Request, admit, authenticated_body, parse_project_id, reject};
use crate::error::ApiError;
use crate::monitors::{CronSpec, MonitorError, check_ins};
use crate::request::ClientAddr;
use crate::state::AppState;
use crate::store::{KeyInfo, StoreError, now_ms};

/// Parses the `check_in` item at `index` of an envelope, its config checked too, so that
/// a bad one refuses the envelope before any of it is stored.
pub(super) fn parse_item(
    state: &AppState,
    index: usize,
    payload: &[u8],
) -> Result<CheckIn, ApiError> {
    if payload.len() > state.config.max_event_bytes {
        return Err(reject(
            state,
            "too_large",
            ApiError::too_large(format!(
                "item {index}: check-in is larger than {} bytes",
                state.config.max_event_bytes
            )),
        ));
    }
    let invalid = |detail: String| {
        reject(
            state,
            "invalid",
            ApiError::bad_request(format!("item {index}: {detail}")),
        )
    };
    let check_in = CheckIn::from_json(payload).map_err(|e| invalid(e.to_string()))?;
    if let Some(config) = &check_in.monitor_config {
        CronSpec::from_config(config).map_err(|e| invalid(format!("monitor_config: {e}")))?;
    }
    Ok(check_in)
}

/// Records parsed check-ins for the key's project (their rate limit already asked).
pub(super) async fn record_all(
    state: &AppState,
    key: &KeyInfo,
    check_ins: Vec<CheckIn>,
) -> Result<(), ApiError> {
    if check_ins.is_empty() {
        return Ok(());
    }
    for check_in in check_ins {
        record_one(state, key.project.id, check_in).await?;
    }
    Ok(())
}

async fn record_one(
    state: &AppState,
    project_id: i64,
    check_in: CheckIn,
) -> Result<check_ins::Receipt, ApiError> {
    let recorded = match check_ins::check(project_id, check_in, now_ms()) {
        Ok(checked) => state.check_ins.record(checked).await,
        Err(error) => Err(error),
    };
    recorded.map_err(|error| match error {
        MonitorError::Store(StoreError::AtLimit(what)) => reject(
            state,
            "too_many_monitors",
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, what),
        ),
        MonitorError::Store(_) => {
            state.metrics.database_errors.inc();
            ApiError::from(error)
        }
        other => reject(state, "invalid", ApiError::from(other)),
    })
}

/// The query (and JSON body) of the plain HTTP check-in.
#[derive(Debug, Default, Deserialize)]
struct HttpCheckIn {
    status: Option<CheckInStatus>,
    check_in_id: Option<String>,
    environment: Option<String>,
    release: Option<String>,
    duration: Option<f64>,
    monitor_config: Option<MonitorConfig>,
}

/// `GET|POST /api/{project_id}/cron/{monitor_slug}/{public_key}/`.
pub(super) async fn with_key_in_path(
    State(state): State<AppState>,
    Path((project_id, slug, public_key)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // The key in the path counts as `sentry_key`.
    let query = match query.as_deref().filter(|q| !q.is_empty()) {
        Some(query) => format!("{query}&sentry_key={public_key}"),
        None => format!("sentry_key={public_key}"),
    };
    http_check_in(
        &state,
        &project_id,
        &slug,
        Some(&query),
        client,
        &headers,
        body,
    )
    .await
    .into_response()
}

/// `GET|POST /api/{project_id}/cron/{monitor_slug}/?sentry_key=...`.
pub(super) async fn with_key_in_query(
    State(state): State<AppState>,
    Path((project_id, slug)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    http_check_in(
        &state,
        &project_id,
        &slug,
        query.as_deref(),
        client,
        &headers,
        body,
    )
    .await
    .into_response()
}

async fn http_check_in(
    state: &AppState,
    raw_project_id: &str,
    slug: &str,
    query: Option<&str>,
    client: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let project_id = parse_project_id(state, raw_project_id)?;
    let request = Request {
        state,
        query,
        headers,
        client,
    };
    let (key, bytes) = authenticated_body(&request, project_id, body, false).await?;
    let invalid = |detail: String| reject(state, "invalid", ApiError::bad_request(detail));
    let from_query: HttpCheckIn =
        query_fields(query.unwrap_or_default()).map_err(|e| invalid(format!("query: {e}")))?;
    let from_body: HttpCheckIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        HttpCheckIn::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("body: {e}")))?
    };
    let status = from_body.status.or(from_query.status).ok_or_else(|| {
        invalid(
            "status is required: in_progress, ok or error (a query parameter or in a JSON body)"
                .into(),
        )
    })?;
    let monitor_config = from_body.monitor_config.or(from_query.monitor_config);
    if let Some(config) = &monitor_config {
        CronSpec::from_config(config).map_err(|e| invalid(format!("monitor_config: {e}")))?;
    }
    let check_in = CheckIn {
        check_in_id: from_body.check_in_id.or(from_query.check_in_id),
        monitor_slug: slug.to_owned(),
        status,
        duration: from_body.duration.or(from_query.duration),
        environment: from_body.environment.or(from_query.environment),
        release: from_body.release.or(from_query.release),
        monitor_config,
    };
    admit(&request, &key, Category::Monitor, 1)?;
    let receipt = record_one(state, key.project.id, check_in).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"id": receipt.check_in_id})),
    )
        .into_response())
}

/// The check-in's fields from a query string (`sentry_key` and others ignored).
fn query_fields(query: &str) -> Result<HttpCheckIn, String> {
    let mut found = HttpCheckIn::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "status" => {
                found.status = Some(
                    serde_json::from_value(serde_json::Value::String(value.to_string()))
                        .map_err(|_| format!("status {value:?} is not in_progress, ok or error"))?,
                );
            }
            "check_in_id" => found.check_in_id = Some(value.into_owned()),
            "environment" => found.environment = Some(value.into_owned()),
            "release" => found.release = Some(value.into_owned()),
            "duration" => {
                found.duration = Some(
                    value
                        .parse()
                        .map_err(|_| format!("duration {value:?} is not a number of seconds"))?,
                );
            }
            _ => {}
        }
    }
    Ok(found)
}
