//! The JSON API under `/api/v1`, authenticated with `Authorization: Bearer <token>`.
//!
//! A token acts for its account: admins see every project, others the projects they
//! belong to. Another project's issue answers 404, as if it did not exist.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::store::entities::{account, affected_user, issue};
use crate::store::{IssueFilter, IssueSort, IssueStatus};

/// Issues per page.
const PAGE: u64 = 50;

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(projects))
        .route("/api/v1/projects/{project_id}/issues", get(issues))
        .route(
            "/api/v1/issues/{issue_id}",
            get(issue_detail).patch(update_issue),
        )
        .route("/api/v1/issues/{issue_id}/events", get(issue_events))
        .route("/api/v1/issues/{issue_id}/users", get(issue_users))
        .route(
            "/api/v1/projects/{project_id}/recipients",
            get(list_recipients)
                .post(add_recipient)
                .delete(remove_recipient),
        )
        .route(
            "/api/v1/projects/{project_id}/webhooks",
            get(list_webhooks).post(add_webhook),
        )
        .route(
            "/api/v1/projects/{project_id}/webhooks/{webhook_id}",
            axum::routing::delete(remove_webhook),
        )
        .route(
            "/api/v1/projects/{project_id}/notifications",
            get(notifications),
        )
}

/// A JSON body, or 400 naming the `expected` shape and what was wrong.
fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
    expected: &str,
) -> Result<Json<T>, ApiError> {
    body.map_err(|e| ApiError::bad_request(format!("expected {expected}: {e}")))
}

async fn visible_project(
    state: &AppState,
    account: &account::Model,
    project_id: i64,
) -> Result<(), ApiError> {
    if state.store.can_see(account, project_id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "project {project_id} not found"
        )))
    }
}

#[derive(Deserialize)]
struct RecipientBody {
    email: String,
}

async fn list_recipients(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    Ok(Json(
        json!({ "recipients": state.store.recipients(project_id).await? }),
    ))
}

async fn add_recipient(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
    body: Result<Json<RecipientBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    let Json(body) = json_body(body, "{\"email\": ...}")?;
    crate::cli::check_email(&body.email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.store.add_recipient(project_id, &body.email).await?;
    Ok(Json(
        json!({ "recipients": state.store.recipients(project_id).await? }),
    ))
}

async fn remove_recipient(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
    body: Result<Json<RecipientBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    let Json(body) = json_body(body, "{\"email\": ...}")?;
    if !state
        .store
        .remove_recipient(project_id, &body.email)
        .await?
    {
        return Err(ApiError::not_found(format!(
            "{} is not a recipient",
            body.email
        )));
    }
    Ok(Json(
        json!({ "recipients": state.store.recipients(project_id).await? }),
    ))
}

#[derive(Deserialize)]
struct WebhookBody {
    url: String,
    secret: Option<String>,
}

async fn list_webhooks(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    let hooks: Vec<Value> = state
        .store
        .webhooks(project_id)
        .await?
        .into_iter()
        .map(|h| json!({"id": h.id, "url": h.url}))
        .collect();
    Ok(Json(json!({ "webhooks": hooks })))
}

async fn add_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
    body: Result<Json<WebhookBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    let Json(body) = json_body(body, "{\"url\": ...}")?;
    crate::cli::check_webhook_url(&body.url).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let secret = body.secret.unwrap_or_else(|| crate::store::random_hex(1));
    let hook = state
        .store
        .add_webhook(project_id, &body.url, &secret)
        .await?;
    // The secret is shown once, here.
    Ok(Json(
        json!({"id": hook.id, "url": hook.url, "secret": hook.secret}),
    ))
}

async fn remove_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path((project_id, webhook_id)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    if !state.store.remove_webhook(project_id, webhook_id).await? {
        return Err(ApiError::not_found(format!(
            "webhook {webhook_id} not found"
        )));
    }
    Ok(Json(json!({"removed": webhook_id})))
}

async fn notifications(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    visible_project(&state, &account, project_id).await?;
    let rows: Vec<Value> = state
        .store
        .notifications(project_id, 100)
        .await?
        .into_iter()
        .map(|n| {
            json!({
                "id": n.id,
                "issue_id": n.issue_id,
                "kind": n.kind,
                "channel": n.channel,
                "webhook_id": n.webhook_id,
                "status": n.status,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "created_at": ms_to_rfc3339(n.created_at),
                "sent_at": n.sent_at.map(ms_to_rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "notifications": rows })))
}

/// The hex SHA-256 under which a token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The account the request's bearer token acts for.
pub struct ApiAccount(pub account::Model);

impl FromRequestParts<AppState> for ApiAccount {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization must be \"Bearer <token>\""))?;
        state
            .store
            .account_by_token(&token_hash(token))
            .await?
            .map(ApiAccount)
            .ok_or_else(|| ApiError::unauthorized("unknown token"))
    }
}

fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Serialize)]
struct IssueJson {
    id: i64,
    project_id: i64,
    title: String,
    culprit: Option<String>,
    level: String,
    status: String,
    count: i64,
    user_count: i64,
    first_seen: String,
    last_seen: String,
    first_release: Option<String>,
    last_release: Option<String>,
    last_environment: Option<String>,
    regression_count: i64,
    fingerprint: String,
}

impl From<issue::Model> for IssueJson {
    fn from(issue: issue::Model) -> Self {
        IssueJson {
            id: issue.id,
            project_id: issue.project_id,
            title: issue.title,
            culprit: issue.culprit,
            level: issue.level,
            status: issue.status,
            count: issue.event_count,
            user_count: issue.user_count,
            first_seen: ms_to_rfc3339(issue.first_seen),
            last_seen: ms_to_rfc3339(issue.last_seen),
            first_release: issue.first_release,
            last_release: issue.last_release,
            last_environment: issue.last_environment,
            regression_count: issue.regression_count,
            fingerprint: issue.fingerprint,
        }
    }
}

async fn projects(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<Value>, ApiError> {
    let all = state.store.list_projects().await?;
    let visible: Vec<i64> = state
        .store
        .visible_projects(&account)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let projects: Vec<Value> = all
        .into_iter()
        .filter(|p| visible.contains(&p.project.id))
        .map(|p| {
            json!({
                "id": p.project.id,
                "name": p.project.name,
                "rate_limit_per_minute": p.project.rate_limit_per_minute,
                "dsn": p.keys.iter().find(|k| k.active).map(|k| state.config.dsn(&k.public_key, p.project.id)),
            })
        })
        .collect();
    Ok(Json(json!({ "projects": projects })))
}

#[derive(Deserialize)]
struct IssuesQuery {
    status: Option<String>,
    environment: Option<String>,
    release: Option<String>,
    query: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

fn parse_cursor(cursor: Option<&str>) -> Result<u64, ApiError> {
    match cursor {
        None | Some("") => Ok(0),
        Some(c) => c.parse().map_err(|_| {
            ApiError::bad_request(format!("cursor {c:?} is not one this API gave out"))
        }),
    }
}

async fn issues(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(project_id): Path<i64>,
    Query(q): Query<IssuesQuery>,
) -> Result<Json<Value>, ApiError> {
    if !state.store.can_see(&account, project_id).await? {
        return Err(ApiError::not_found(format!(
            "project {project_id} not found"
        )));
    }
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<IssueStatus>().map_err(ApiError::bad_request)?),
    };
    let sort = match q.sort.as_deref() {
        None | Some("") | Some("last_seen") => IssueSort::LastSeen,
        Some("first_seen") => IssueSort::FirstSeen,
        Some("events") => IssueSort::Events,
        Some("users") => IssueSort::Users,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown sort {other:?} (expected last_seen, first_seen, events or users)"
            )));
        }
    };
    let offset = parse_cursor(q.cursor.as_deref())?;
    let filter = IssueFilter {
        status,
        environment: q.environment.filter(|e| !e.is_empty()),
        release: q.release.filter(|r| !r.is_empty()),
        query: q.query,
        sort,
        offset,
        limit: PAGE + 1,
    };
    let mut rows = state.store.list_issues(project_id, &filter).await?;
    let next = (rows.len() as u64 > PAGE).then(|| (offset + PAGE).to_string());
    rows.truncate(PAGE as usize);
    let issues: Vec<IssueJson> = rows.into_iter().map(IssueJson::from).collect();
    Ok(Json(json!({ "issues": issues, "next_cursor": next })))
}

/// The issue, if `account` may see its project; 404 otherwise.
async fn visible_issue(
    state: &AppState,
    account: &account::Model,
    issue_id: i64,
) -> Result<issue::Model, ApiError> {
    let issue = state.store.issue(issue_id).await?;
    match issue {
        Some(issue) if state.store.can_see(account, issue.project_id).await? => Ok(issue),
        _ => Err(ApiError::not_found(format!("issue {issue_id} not found"))),
    }
}

async fn issue_detail(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(issue_id): Path<i64>,
) -> Result<Json<IssueJson>, ApiError> {
    Ok(Json(
        visible_issue(&state, &account, issue_id).await?.into(),
    ))
}

#[derive(Deserialize)]
struct StatusChange {
    status: String,
}

async fn update_issue(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(issue_id): Path<i64>,
    body: Result<Json<StatusChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<IssueJson>, ApiError> {
    let Json(change) = json_body(body, "{\"status\": ...}")?;
    let status: IssueStatus = change.status.parse().map_err(ApiError::bad_request)?;
    visible_issue(&state, &account, issue_id).await?;
    Ok(Json(
        state.store.set_issue_status(issue_id, status).await?.into(),
    ))
}

#[derive(Deserialize)]
struct EventsQuery {
    cursor: Option<String>,
}

async fn issue_events(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(issue_id): Path<i64>,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    visible_issue(&state, &account, issue_id).await?;
    let offset = parse_cursor(q.cursor.as_deref())?;
    let mut rows = state.store.issue_events(issue_id, offset, PAGE + 1).await?;
    let next = (rows.len() as u64 > PAGE).then(|| (offset + PAGE).to_string());
    rows.truncate(PAGE as usize);
    let events: Vec<Value> = rows
        .into_iter()
        .map(|(row, payload)| {
            json!({
                "event_id": row.event_id,
                "received_at": ms_to_rfc3339(row.received_at),
                "timestamp": ms_to_rfc3339(row.timestamp),
                "level": row.level,
                "environment": row.environment,
                "release": row.release,
                "user_key": row.user_key,
                "payload": payload,
            })
        })
        .collect();
    Ok(Json(json!({ "events": events, "next_cursor": next })))
}

async fn issue_users(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path(issue_id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    visible_issue(&state, &account, issue_id).await?;
    let users: Vec<Value> = state
        .store
        .issue_users(issue_id)
        .await?
        .into_iter()
        .map(|u: affected_user::Model| {
            json!({
                "id": u.user_id,
                "email": u.email,
                "username": u.username,
                "name": u.name,
                "ip_address": u.ip_address,
                "event_count": u.event_count,
                "first_seen": ms_to_rfc3339(u.first_seen),
                "last_seen": ms_to_rfc3339(u.last_seen),
            })
        })
        .collect();
    Ok(Json(json!({ "users": users })))
}
