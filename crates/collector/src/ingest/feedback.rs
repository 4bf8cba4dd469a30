//! Feedback as Sentry's clients send it: `user_report` envelope items (`event_id`,
//! `name`, `email`, `comments`), `feedback` items or events (`contexts.feedback`:
//! `message`, `name`, `contact_email`, `url`, `associated_event_id`), and the
//! crash-report dialog of `showReportDialog`: `GET /api/embed/error-page/?dsn=&eventId=`
//! answers the dialog's script in the project's words, `POST` to the same address
//! with the form's `name`, `email` and `comments` stores it. Each is limited per DSN key
//! and per client address, and checked by [`crate::feedback`] before anything of its
//! envelope is stored.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use mayday_protocol::{Dsn, Event};
use serde::Deserialize;
use serde_json::Value;

use super::reject;
use crate::error::ApiError;
use crate::feedback::{self, Sent};
use crate::pipeline::rate_limit::Admission;
use crate::request::ClientAddr;
use crate::state::AppState;
use crate::store::entities::FeedbackSource;
use crate::store::{KeyInfo, now_ms};

/// Feedback read from an envelope item, owned until it is stored.
#[derive(Debug, Clone, Default)]
pub(super) struct Received {
    source: Option<FeedbackSource>,
    event_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    message: Option<String>,
    url: Option<String>,
}

impl Received {
    fn sent(&self) -> Sent<'_> {
        Sent {
            event_id: self.event_id.as_deref(),
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            message: self.message.as_deref(),
            url: self.url.as_deref(),
        }
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Parses the `user_report` item at `index`, checked.
pub(super) fn user_report(
    state: &AppState,
    index: usize,
    payload: &[u8],
) -> Result<Received, ApiError> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| invalid(state, index, format!("user_report is not JSON: {e}")))?;
    checked(
        state,
        index,
        Received {
            source: Some(FeedbackSource::UserReport),
            event_id: text(&value, "event_id"),
            name: text(&value, "name"),
            email: text(&value, "email"),
            message: text(&value, "comments"),
            url: None,
        },
    )
}

/// Whether `event` is feedback rather than an error (`type: feedback`, as the
/// `feedback` item and newer SDKs' `captureFeedback` send it).
pub(super) fn is_feedback(event: &Event) -> bool {
    event.other.get("type").and_then(Value::as_str) == Some("feedback")
}

/// Reads feedback event `event` (item `index`), checked.
pub(super) fn feedback_event(
    state: &AppState,
    index: usize,
    event: &Event,
) -> Result<Received, ApiError> {
    let context = event
        .contexts
        .as_ref()
        .and_then(|c| c.other.get("feedback"))
        .cloned()
        .unwrap_or(Value::Null);
    let user = event.user.as_ref();
    checked(
        state,
        index,
        Received {
            source: Some(FeedbackSource::FeedbackEvent),
            event_id: text(&context, "associated_event_id"),
            name: text(&context, "name")
                .or_else(|| user.and_then(|u| u.name.clone().or_else(|| u.username.clone()))),
            email: text(&context, "contact_email").or_else(|| user.and_then(|u| u.email.clone())),
            message: text(&context, "message"),
            url: text(&context, "url"),
        },
    )
}

fn invalid(state: &AppState, index: usize, detail: String) -> ApiError {
    reject(
        state,
        "invalid",
        ApiError::bad_request(format!("item {index}: {detail}")),
    )
}

fn checked(state: &AppState, index: usize, received: Received) -> Result<Received, ApiError> {
    feedback::check(&received.sent()).map_err(|e| invalid(state, index, e.to_string()))?;
    Ok(received)
}

/// Asks the per-key and per-client limits for `count` pieces of feedback from
/// `client`.
pub(super) fn admit(
    state: &AppState,
    client: Option<std::net::IpAddr>,
    key: &KeyInfo,
    count: u64,
) -> Result<(), ApiError> {
    let now = now_ms();
    let per_key = state.limiter.admit(
        &format!("{}/feedback", key.key.public_key),
        count,
        feedback::PER_KEY_PER_MINUTE,
        now,
    );
    let per_client = match (per_key, client) {
        (Admission::Accept, Some(client)) => state.limiter.admit(
            &format!("feedback-from/{client}"),
            count,
            feedback::PER_CLIENT_PER_MINUTE,
            now,
        ),
        (admission, _) => admission,
    };
    match per_client {
        Admission::Accept => Ok(()),
        Admission::Limited { retry_after } => {
            state.metrics.reject("rate_limited");
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "feedback is limited to {} a minute per key and {} per client address; retry in {retry_after} s",
                    feedback::PER_KEY_PER_MINUTE,
                    feedback::PER_CLIENT_PER_MINUTE
                ),
            );
            error
                .headers
                .push((header::RETRY_AFTER, HeaderValue::from(retry_after)));
            Err(error)
        }
    }
}

/// Stores feedback already checked and admitted.
pub(super) async fn record_all(
    state: &AppState,
    key: &KeyInfo,
    received: Vec<Received>,
) -> Result<(), ApiError> {
    for one in received {
        let source = one.source.unwrap_or(FeedbackSource::UserReport);
        // Checked when parsed: a refusal here cannot happen, and is answered anyway.
        feedback::record(&state.store, key.project.id, source, &one.sent())
            .await?
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    Ok(())
}

/// The dialog's query: the DSN and event, and the wording `showReportDialog` passes.
#[derive(Debug, Deserialize)]
pub(super) struct DialogQuery {
    dsn: Option<String>,
    #[serde(rename = "eventId")]
    event_id: Option<String>,
    #[serde(flatten)]
    options: HashMap<String, String>,
}

/// The key of the dialog's `dsn`, authenticated.
async fn dialog_key(
    state: &AppState,
    query: &DialogQuery,
    client: Option<std::net::IpAddr>,
) -> Result<KeyInfo, ApiError> {
    let dsn: Dsn = query
        .dsn
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("missing dsn (the project's DSN)"))?
        .parse()
        .map_err(|e| ApiError::bad_request(format!("dsn: {e}")))?;
    let project_id: i64 = dsn
        .project_id()
        .parse()
        .map_err(|_| ApiError::bad_request("dsn: its project id is not a number"))?;
    super::auth::authenticate(state, project_id, Ok(dsn.public_key().to_owned()), client).await
}

/// `GET /api/embed/error-page/`: the dialog's script.
pub(super) async fn dialog(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Query(query): Query<DialogQuery>,
) -> Result<Response, ApiError> {
    let key = dialog_key(&state, &query, client).await?;
    let event_id = query.event_id.as_deref().ok_or_else(|| {
        ApiError::bad_request("missing eventId (the id of the event to write about)")
    })?;
    event_id
        .parse::<mayday_protocol::EventId>()
        .map_err(|_| ApiError::bad_request(format!("eventId {event_id:?} is not an event id")))?;
    let who = key
        .project
        .sender_name
        .clone()
        .unwrap_or_else(|| key.project.name.clone());
    let endpoint = format!(
        "{}/api/embed/error-page/?{}",
        state.config.base_url(),
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("dsn", query.dsn.as_deref().unwrap_or_default())
            .append_pair("eventId", event_id)
            .finish()
    );
    let option = |name: &str, default: String| -> Value {
        Value::from(
            query
                .options
                .get(name)
                .map(|v| v.chars().take(500).collect::<String>())
                .unwrap_or(default),
        )
    };
    let mut options = serde_json::Map::new();
    for (name, default) in [
        ("title", format!("It looks like {who} is having issues.")),
        (
            "subtitle",
            "Our team has been told. If you'd like to help, tell us what happened below: we'll write back.".to_owned(),
        ),
        ("labelName", "Name".to_owned()),
        ("labelEmail", "Email".to_owned()),
        ("labelComments", "What were you doing?".to_owned()),
        ("labelSubmit", "Send".to_owned()),
        ("labelClose", "Close".to_owned()),
        ("successMessage", "Thank you: your words reached the team.".to_owned()),
        ("errorGeneric", "Sending failed. Please try again.".to_owned()),
        ("name", String::new()),
        ("email", String::new()),
    ] {
        options.insert(name.to_owned(), option(name, default));
    }
    options.insert("endpoint".to_owned(), Value::from(endpoint));
    let script = include_str!("static/report-dialog.js").replacen(
        "})(MAYDAY_DIALOG);",
        &format!("}})({});", Value::Object(options)),
        1,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        script,
    )
        .into_response())
}

/// The dialog's form.
#[derive(Debug, Deserialize)]
pub(super) struct DialogForm {
    name: Option<String>,
    email: Option<String>,
    comments: Option<String>,
}

/// `POST /api/embed/error-page/`: the dialog's form, stored.
pub(super) async fn dialog_post(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Query(query): Query<DialogQuery>,
    Form(form): Form<DialogForm>,
) -> Result<Json<Value>, ApiError> {
    let key = dialog_key(&state, &query, client).await?;
    admit(&state, client, &key, 1)?;
    let sent = Sent {
        event_id: query.event_id.as_deref(),
        name: form.name.as_deref(),
        email: form.email.as_deref(),
        message: form.comments.as_deref(),
        url: None,
    };
    feedback::record(&state.store, key.project.id, FeedbackSource::Dialog, &sent)
        .await?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(serde_json::json!({})))
}
