//! Ingest: Sentry's `/envelope/` and `/store/` endpoints.
//!
//! A request is authenticated by its key before its body is read (from the header or the
//! query string; from the envelope's first line when only that names it), its body read
//! within the budgets of [`body`], decoded, parsed, checked against the key's rate limit,
//! normalized, grouped and compressed (on the request's own task), and handed to the
//! group-commit writer; it is answered `200 {"id": ...}` only once its events are
//! committed. Bad input gets a 4xx with a JSON body naming the problem, never a 5xx.

mod auth;
pub mod body;
mod check_in;
mod client_report;
pub mod decode;
mod feedback;
mod sessions;

use std::net::IpAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mayday_protocol::{Envelope, Event, EventId, ItemType};
use tower_http::cors::{Any, CorsLayer};

use crate::error::ApiError;
use crate::pipeline::prepare::prepare;
use crate::pipeline::rate_limit::Admission;
use crate::pipeline::rejections::Rejection;
use crate::request::ClientAddr;
use crate::state::AppState;
use crate::store::{KeyInfo, now_ms};
use decode::DecodeError;

/// The ingest routes, with CORS open for browser SDKs.
pub fn routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            axum::http::Method::GET,
            axum::http::Method::POST,
            axum::http::Method::OPTIONS,
        ])
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
        .route(
            "/api/{project_id}/cron/{monitor_slug}/{public_key}/",
            get(check_in::with_key_in_path).post(check_in::with_key_in_path),
        )
        .route(
            "/api/{project_id}/cron/{monitor_slug}/{public_key}",
            get(check_in::with_key_in_path).post(check_in::with_key_in_path),
        )
        .route(
            "/api/{project_id}/cron/{monitor_slug}/",
            get(check_in::with_key_in_query).post(check_in::with_key_in_query),
        )
        .route(
            "/api/embed/error-page/",
            get(feedback::dialog).post(feedback::dialog_post),
        )
        .route(
            "/api/embed/error-page",
            get(feedback::dialog).post(feedback::dialog_post),
        )
        .layer(cors)
}

async fn envelope(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(query): RawQuery,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request = Request {
        state: &state,
        query: query.as_deref(),
        headers: &headers,
        client,
    };
    let result = ingest_envelope(&request, &project_id, body).await;
    finish(&state, started, result)
}

async fn store(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    RawQuery(query): RawQuery,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request = Request {
        state: &state,
        query: query.as_deref(),
        headers: &headers,
        client,
    };
    let result = ingest_store(&request, &project_id, body).await;
    finish(&state, started, result)
}

/// What the ingest steps need to know about the request besides its body.
#[derive(Clone, Copy)]
struct Request<'a> {
    state: &'a AppState,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    /// The client's address (for the rejection log).
    client: Option<IpAddr>,
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

fn body_error(state: &AppState, error: body::BodyError) -> ApiError {
    match error {
        body::BodyError::TooLarge { .. }
        | body::BodyError::Decode(DecodeError::TooLarge { .. }) => {
            reject(state, "too_large", ApiError::too_large(error.to_string()))
        }
        body::BodyError::Busy(_) => {
            let mut busy = reject(
                state,
                "busy",
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
            );
            busy.headers
                .push((header::RETRY_AFTER, HeaderValue::from_static("1")));
            busy
        }
        body::BodyError::Decode(DecodeError::Unsupported(_)) => reject(
            state,
            "invalid",
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, error.to_string()),
        ),
        other => reject(state, "invalid", ApiError::bad_request(other.to_string())),
    }
}

/// A request's body: the key checked first, then the body read and decoded within the
/// budgets. `envelope` says whether the key may be named in the envelope's header.
async fn authenticated_body(
    request: &Request<'_>,
    project_id: i64,
    body: Body,
    envelope: bool,
) -> Result<(KeyInfo, Vec<u8>), ApiError> {
    let Request {
        state,
        query,
        headers,
        client,
    } = *request;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let codings = decode::parse_codings(encoding)
        .map_err(|error| body_error(state, body::BodyError::Decode(error)))?;
    let limit = state.config.max_envelope_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(body_error(state, body::BodyError::TooLarge { limit }));
    }
    let mut reservation = state.in_flight.reservation();
    let (key, raw) = match auth::request_key(headers, query) {
        Some(key) => {
            let key = auth::authenticate(state, project_id, key, client).await?;
            let raw = body::read_all(body, Vec::new(), limit, &mut reservation)
                .await
                .map_err(|e| body_error(state, e))?;
            (key, raw)
        }
        None if envelope => {
            let (prefix, line, rest) = body::read_first_line(body, &codings, &mut reservation)
                .await
                .map_err(|e| body_error(state, e))?;
            let dsn = serde_json::from_slice::<mayday_protocol::EnvelopeHeader>(&line)
                .ok()
                .and_then(|h| h.dsn);
            let key = auth::envelope_key(dsn.as_deref(), project_id);
            let key = auth::authenticate(state, project_id, key, client).await?;
            let raw = body::read_all(rest, prefix, limit, &mut reservation)
                .await
                .map_err(|e| body_error(state, e))?;
            (key, raw)
        }
        None => {
            state.metrics.reject("auth");
            return Err(auth::no_credentials());
        }
    };
    let bytes = body::decode(raw, codings, limit, &state.decoders)
        .await
        .map_err(|e| body_error(state, e))?;
    Ok((key, bytes))
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
    request: &Request<'_>,
    raw_project_id: &str,
    body: Body,
) -> Result<Option<EventId>, ApiError> {
    let state = request.state;
    let project_id = parse_project_id(state, raw_project_id)?;
    let (key, bytes) = authenticated_body(request, project_id, body, true).await?;
    let envelope = Envelope::parse(&bytes)
        .map_err(|e| reject(state, "invalid", ApiError::bad_request(e.to_string())))?;

    let mut events = Vec::new();
    let mut check_ins = Vec::new();
    let mut said = Vec::new();
    let mut health = Vec::new();
    let now = now_ms();
    for (index, item) in envelope.items.iter().enumerate() {
        let feedback_item = matches!(&item.ty, ItemType::Unknown(name) if name == "feedback");
        match &item.ty {
            ItemType::UserReport => said.push(feedback::user_report(state, index, &item.payload)?),
            ItemType::Event | ItemType::Unknown(_)
                if item.ty == ItemType::Event || feedback_item =>
            {
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
                if feedback_item || feedback::is_feedback(&event) {
                    said.push(feedback::feedback_event(state, index, &event)?);
                } else {
                    events.push((event, &item.payload[..]));
                }
            }
            ItemType::CheckIn => check_ins.push(check_in::parse_item(state, index, &item.payload)?),
            ItemType::ClientReport => client_report::count(&state.metrics, &item.payload),
            ItemType::Sessions => health.extend(sessions::aggregates(&item.payload, now)),
            ItemType::Session => health.extend(sessions::session(&item.payload, now)),
            // Transactions, attachments, logs and types we do not know are accepted
            // and not stored.
            _ => {}
        }
    }
    // Both limits are asked before anything is stored: a 429 stores nothing.
    if !check_ins.is_empty() {
        admit(request, &key, Category::Monitor, check_ins.len() as u64)?;
    }
    if !said.is_empty() {
        feedback::admit(request.state, request.client, &key, said.len() as u64)?;
    }
    let first_id = store_events(request, &key, events, envelope.header.event_id).await?;
    check_in::record_all(state, &key, check_ins).await?;
    feedback::record_all(state, &key, said).await?;
    if !health.is_empty() {
        state
            .store
            .add_health(key.project.id, &health)
            .await
            .map_err(|error| {
                tracing::error!(%error, "storing request counts failed");
                ApiError::storage_unavailable()
            })?;
    }
    Ok(first_id.or(envelope.header.event_id))
}

async fn ingest_store(
    request: &Request<'_>,
    raw_project_id: &str,
    body: Body,
) -> Result<Option<EventId>, ApiError> {
    let state = request.state;
    let project_id = parse_project_id(state, raw_project_id)?;
    let (key, bytes) = authenticated_body(request, project_id, body, false).await?;
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
    store_events(request, &key, vec![(event, &bytes[..])], None).await
}

/// What a rate limit counts: events and check-ins each have the key's limit per minute
/// (a busy cron job does not use up its project's error budget, nor the reverse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    /// Events (errors, messages).
    Error,
    /// Cron check-ins.
    Monitor,
}

impl Category {
    /// The categories of Sentry's `X-Sentry-Rate-Limits` that SDKs hold back.
    fn sentry_categories(self) -> &'static str {
        match self {
            Category::Error => "error;default",
            Category::Monitor => "monitor",
        }
    }

    /// What is counted, for the 429's text.
    fn counted(self) -> &'static str {
        match self {
            Category::Error => "events",
            Category::Monitor => "check-ins",
        }
    }
}

/// Counts `count` items of `category` against the key's limit (the project's own, or
/// the collector's): a 429 with `Retry-After` and `X-Sentry-Rate-Limits` past it.
fn admit(
    request: &Request<'_>,
    key: &KeyInfo,
    category: Category,
    count: u64,
) -> Result<(), ApiError> {
    let state = request.state;
    let limit = match key.project.rate_limit_per_minute {
        0 => state.config.rate_limit,
        own => u64::try_from(own).unwrap_or(0),
    };
    let now = now_ms();
    let public_key = &key.key.public_key;
    let admission = match category {
        Category::Error => state.limiter.admit(public_key, count, limit, now),
        Category::Monitor => {
            state
                .limiter
                .admit(&format!("{public_key}/monitor"), count, limit, now)
        }
    };
    let Admission::Limited { retry_after } = admission else {
        return Ok(());
    };
    for _ in 0..count {
        state.metrics.reject("rate_limited");
    }
    let _logged = state.rejections.record(
        key.project.id,
        Rejection::RateLimit,
        public_key,
        request.client,
        count,
        now,
    );
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "rate limit of {limit} {} per minute exceeded; retry in {retry_after} s",
            category.counted()
        ),
    );
    error
        .headers
        .push((header::RETRY_AFTER, HeaderValue::from(retry_after)));
    let sentry = format!("{retry_after}:{}:key", category.sentry_categories());
    if let Ok(value) = HeaderValue::from_str(&sentry) {
        error.headers.push((
            axum::http::HeaderName::from_static("x-sentry-rate-limits"),
            value,
        ));
    }
    Err(error)
}

/// Rate-limits, groups and stores `events`, each with the text it was read from;
/// returns the first event's id.
async fn store_events(
    request: &Request<'_>,
    key: &KeyInfo,
    events: Vec<(Event, &[u8])>,
    header_id: Option<EventId>,
) -> Result<Option<EventId>, ApiError> {
    let state = request.state;
    if events.is_empty() {
        return Ok(None);
    }
    admit(request, key, Category::Error, events.len() as u64)?;
    let now = now_ms();

    let mut first = None;
    let single = events.len() == 1;
    let mut pending = Vec::with_capacity(events.len());
    for (mut event, text) in events {
        // The text is stored as sent unless symbolication changes the event (the id
        // assigned here is kept in the row, and read back from there).
        let mut text = Some(text);
        let id = match event.event_id {
            Some(id) => id,
            None if single => header_id.unwrap_or_default(),
            None => EventId::new(),
        };
        event.event_id = Some(id);
        first.get_or_insert(id);
        if event.debug_meta.is_some() {
            // Frames a stripped binary could not name, named before grouping.
            text = None;
            match state
                .symbolicator
                .symbolicate(&state.store, key.project.id, &mut event)
                .await
            {
                Ok(outcome) if !outcome.missing.is_empty() => {
                    event.other.insert(
                        "mayday_missing_debug_files".into(),
                        serde_json::json!(outcome.missing),
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "symbolicating an event failed"),
            }
        }
        pending.push(prepare(state, &key.project, event, text, now)?);
    }
    for new in pending {
        state.writer.write(new).await.map_err(|error| {
            state.metrics.database_errors.inc();
            tracing::error!(%error, "storing an event failed");
            ApiError::storage_unavailable()
        })?;
        state.metrics.accepted.inc();
    }
    Ok(first)
}
