//! Ingest: Sentry's `/envelope/` and `/store/` endpoints.
//!
//! A request is authenticated by its key, decoded within size limits, parsed, checked
//! against the key's rate limit, grouped, and handed to the group-commit writer; it is
//! answered `200 {"id": ...}` only once its events are committed. Bad input gets a 4xx
//! with a JSON body naming the problem, never a 5xx.

mod auth;
pub mod decode;
pub mod rate_limit;
pub mod writer;

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use mayday_protocol::{Envelope, Event, EventId, ItemType, Level, Timestamp};
use tower_http::cors::{Any, CorsLayer};

use crate::AppState;
use crate::error::ApiError;
use crate::grouping;
use crate::store::entities::project;
use crate::store::{EventUser, KeyInfo, NewEvent, SpikeSettings, encode_payload, now_ms};
use rate_limit::Admission;

/// The ingest routes, with CORS open for browser SDKs.
pub fn routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::POST, axum::http::Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers([
            header::RETRY_AFTER,
            axum::http::HeaderName::from_static("x-sentry-rate-limits"),
        ]);
    Router::new()
        .route("/api/{project_id}/envelope/", post(envelope))
        .route("/api/{project_id}/envelope", post(envelope))
        .route("/api/{project_id}/store/", post(store))
        .route("/api/{project_id}/store", post(store))
        .layer(cors)
}

async fn envelope(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = ingest_envelope(&state, &project_id, query.as_deref(), &headers, body).await;
    finish(&state, started, result)
}

async fn store(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let result = ingest_store(&state, &project_id, query.as_deref(), &headers, body).await;
    finish(&state, started, result)
}

fn finish(
    state: &AppState,
    started: Instant,
    result: Result<Option<EventId>, ApiError>,
) -> Response {
    state
        .metrics
        .ingest_seconds
        .observe(started.elapsed().as_secs_f64());
    match result {
        Ok(id) => Json(serde_json::json!({ "id": id.map(|id| id.to_string()) })).into_response(),
        Err(error) => error.into_response(),
    }
}

fn reject(state: &AppState, reason: &str, error: ApiError) -> ApiError {
    state.metrics.reject(reason);
    error
}

async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let limit = state.config.max_envelope_bytes;
    let raw: Bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        reject(
            state,
            "too_large",
            ApiError::too_large(format!("body is larger than {limit} bytes")),
        )
    })?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    decode::decode_body(encoding, &raw, limit).map_err(|error| match error {
        decode::DecodeError::TooLarge { .. } => {
            reject(state, "too_large", ApiError::too_large(error.to_string()))
        }
        other => reject(state, "invalid", ApiError::bad_request(other.to_string())),
    })
}

fn parse_project_id(state: &AppState, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| {
        reject(
            state,
            "invalid",
            ApiError::bad_request(format!("project id {raw:?} is not a number")),
        )
    })
}

async fn ingest_envelope(
    state: &AppState,
    raw_project_id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<EventId>, ApiError> {
    let project_id = parse_project_id(state, raw_project_id)?;
    let bytes = read_body(state, headers, body).await?;
    let envelope = Envelope::parse(&bytes)
        .map_err(|e| reject(state, "invalid", ApiError::bad_request(e.to_string())))?;
    let key = auth::authenticate(
        state,
        project_id,
        headers,
        query,
        envelope.header.dsn.as_deref(),
    )
    .await?;

    let mut events = Vec::new();
    for (index, item) in envelope.items.iter().enumerate() {
        match &item.ty {
            ItemType::Event => {
                if item.payload.len() > state.config.max_event_bytes {
                    return Err(reject(
                        state,
                        "too_large",
                        ApiError::too_large(format!(
                            "item {index}: event is larger than {} bytes",
                            state.config.max_event_bytes
                        )),
                    ));
                }
                let event = Event::from_json(&item.payload).map_err(|e| {
                    reject(
                        state,
                        "invalid",
                        ApiError::bad_request(format!(
                            "item {index}: event payload is invalid: {e}"
                        )),
                    )
                })?;
                events.push(event);
            }
            ItemType::ClientReport => count_client_report(state, &item.payload),
            // Transactions, sessions, attachments, check-ins, logs and types we do not
            // know are accepted and not stored.
            _ => {}
        }
    }
    let first_id = store_events(state, &key, events, envelope.header.event_id).await?;
    Ok(first_id.or(envelope.header.event_id))
}

async fn ingest_store(
    state: &AppState,
    raw_project_id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<EventId>, ApiError> {
    let project_id = parse_project_id(state, raw_project_id)?;
    let bytes = read_body(state, headers, body).await?;
    let key = auth::authenticate(state, project_id, headers, query, None).await?;
    if bytes.len() > state.config.max_event_bytes {
        return Err(reject(
            state,
            "too_large",
            ApiError::too_large(format!(
                "event is larger than {} bytes",
                state.config.max_event_bytes
            )),
        ));
    }
    let event = Event::from_json(&bytes).map_err(|e| {
        reject(
            state,
            "invalid",
            ApiError::bad_request(format!("event is invalid: {e}")),
        )
    })?;
    store_events(state, &key, vec![event], None).await
}

/// Rate-limits, groups and stores `events`; returns the first event's id.
async fn store_events(
    state: &AppState,
    key: &KeyInfo,
    events: Vec<Event>,
    header_id: Option<EventId>,
) -> Result<Option<EventId>, ApiError> {
    if events.is_empty() {
        return Ok(None);
    }
    let limit = match key.project.rate_limit_per_minute {
        0 => state.config.rate_limit,
        own => u64::try_from(own).unwrap_or(0),
    };
    let now = now_ms();
    if let Admission::Limited { retry_after } =
        state
            .limiter
            .admit(&key.key.public_key, events.len() as u64, limit, now)
    {
        for _ in 0..events.len() {
            state.metrics.reject("rate_limited");
        }
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit of {limit} events per minute exceeded; retry in {retry_after} s"),
        );
        error
            .headers
            .push((header::RETRY_AFTER, HeaderValue::from(retry_after)));
        if let Ok(value) = HeaderValue::from_str(&format!("{retry_after}:error;default:key")) {
            error.headers.push((
                axum::http::HeaderName::from_static("x-sentry-rate-limits"),
                value,
            ));
        }
        return Err(error);
    }

    let mut first = None;
    let single = events.len() == 1;
    let mut pending = Vec::with_capacity(events.len());
    for mut event in events {
        let id = match event.event_id {
            Some(id) => id,
            None if single => header_id.unwrap_or_default(),
            None => EventId::new(),
        };
        event.event_id = Some(id);
        first.get_or_insert(id);
        pending.push(prepare(state, &key.project, event, now)?);
    }
    for new in pending {
        state.writer.write(new).await.map_err(|error| {
            state.metrics.database_errors.inc();
            tracing::error!(%error, "storing an event failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage is unavailable; retry later",
            )
        })?;
        state.metrics.accepted.inc();
    }
    Ok(first)
}

/// Normalizes, groups and compresses one event.
fn prepare(
    state: &AppState,
    project: &project::Model,
    mut event: Event,
    now: i64,
) -> Result<NewEvent, ApiError> {
    let project_id = project.id;
    let spike = SpikeSettings {
        threshold: project.spike_threshold,
        window_ms: project.spike_window_minutes.saturating_mul(60_000),
        quiet_ms: i64::try_from(state.config.notify_window_minutes)
            .unwrap_or(60)
            .saturating_mul(60_000),
    };
    let received = Timestamp::from_datetime(chrono::Utc::now());
    let timestamp = event.timestamp.unwrap_or(received);
    event.timestamp = Some(timestamp);
    event.level = Some(event.level.unwrap_or(Level::Error));
    event
        .other
        .insert("received".into(), serde_json::json!(received.0));
    let grouping = grouping::group(&event);
    let json = serde_json::to_vec(&event).map_err(|e| {
        reject(
            state,
            "invalid",
            ApiError::bad_request(format!("event cannot be stored: {e}")),
        )
    })?;
    let payload = encode_payload(&json).map_err(|e| {
        tracing::error!(error = %e, "compressing an event failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot store events right now",
        )
    })?;
    let timestamp_ms = (timestamp.0 * 1000.0) as i64;
    Ok(NewEvent {
        project_id,
        event_id: event.event_id.unwrap_or_default().to_string(),
        received_at: now,
        timestamp: if timestamp_ms > 0 { timestamp_ms } else { now },
        level: event.level.unwrap_or(Level::Error).into(),
        environment: event.environment.clone().map(|e| cap(&e, 256)),
        release: event.release.clone().map(|r| cap(&r, 256)),
        user: event_user(&event),
        fingerprint: grouping.fingerprint,
        title: grouping.title,
        culprit: grouping.culprit,
        payload,
        spike,
    })
}

fn cap(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The affected user, keyed by id, else email, else username, else IP.
fn event_user(event: &Event) -> Option<EventUser> {
    let user = event.user.as_ref()?;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(|s| cap(s.trim(), 256))
            .filter(|s| !s.is_empty())
    };
    let (id, email, username, ip) = (
        clean(&user.id),
        clean(&user.email),
        clean(&user.username),
        clean(&user.ip_address),
    );
    let key = id
        .as_ref()
        .map(|v| format!("id:{v}"))
        .or_else(|| {
            email
                .as_ref()
                .map(|v| format!("email:{}", v.to_lowercase()))
        })
        .or_else(|| username.as_ref().map(|v| format!("username:{v}")))
        .or_else(|| ip.as_ref().map(|v| format!("ip:{v}")))?;
    Some(EventUser {
        key,
        id,
        email,
        username,
        name: clean(&user.name),
        ip_address: ip,
    })
}

/// Counts what an SDK says it discarded, from a `client_report` item.
fn count_client_report(state: &AppState, payload: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Report {
        #[serde(default)]
        discarded_events: Vec<Discarded>,
    }
    #[derive(serde::Deserialize)]
    struct Discarded {
        reason: String,
        category: String,
        quantity: u64,
    }
    let Ok(report) = serde_json::from_slice::<Report>(payload) else {
        return;
    };
    for discarded in report.discarded_events {
        state
            .metrics
            .client_discarded
            .get_or_create(&crate::metrics::Discard {
                reason: cap(&discarded.reason, 64),
                category: cap(&discarded.category, 64),
            })
            .inc_by(discarded.quantity);
    }
}
