//! The JSON API under `/api/v1`, authenticated with `Authorization: Bearer <token>`.
//!
//! A token acts for its account; [`access`](crate::access) decides what it may see.
//! Another project's issue answers 404, as if it did not exist. Handlers parse, call
//! the domain or the store, and answer a typed view ([`views`]).

mod extract;
pub mod monitors;
mod outreach;
mod people;
pub mod views;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::access::Need;
use crate::error::ApiError;
use crate::issues::{self, ListQuery};
use crate::store::AuditAction;
use crate::{AppState, access, accounts, audit, webhooks};
pub use extract::{ApiAccount, ApiPath, AppJson};
use views::{
    EventJson, EventsJson, IssueJson, IssuesJson, NotificationJson, NotificationsJson, ProjectJson,
    ProjectsJson, RecipientsJson, RemovedJson, UserJson, UsersJson, WebhookJson, WebhooksJson,
};

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(projects))
        .route("/api/v1/projects/{project_id}/issues", get(list_issues))
        .route(
            "/api/v1/issues/{issue_id}",
            get(issue_detail).patch(update_issue),
        )
        .route("/api/v1/issues/{issue_id}/events", get(issue_events))
        .route(
            "/api/v1/issues/{issue_id}/unmerge",
            axum::routing::post(unmerge_issue),
        )
        .route(
            "/api/v1/projects/{project_id}/issues/merge",
            axum::routing::post(merge_issues),
        )
        .route("/api/v1/issues/{issue_id}/users", get(issue_users))
        .route(
            "/api/v1/issues/{issue_id}/outreach",
            axum::routing::post(outreach::send),
        )
        .route(
            "/api/v1/issues/{issue_id}/fix-follow-up",
            axum::routing::post(outreach::follow_up),
        )
        .route(
            "/api/v1/issues/{issue_id}/fix-live",
            axum::routing::post(outreach::fix_live),
        )
        .route(
            "/api/v1/projects/{project_id}/outreach",
            get(outreach::settings).put(outreach::save_settings),
        )
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
        .route("/api/v1/projects/{project_id}/audit", get(audit_log))
        .route(
            "/api/v1/projects/{project_id}/members",
            get(people::list_members)
                .put(people::put_member)
                .delete(people::remove_member),
        )
        .route(
            "/api/v1/account/password",
            axum::routing::post(people::change_password),
        )
        .route("/api/v1/users", get(people::list_users))
        .route(
            "/api/v1/users/{user_id}",
            axum::routing::patch(people::change_user).delete(people::remove_user),
        )
        .route(
            "/api/v1/projects/{project_id}/monitors",
            get(monitors::list).post(monitors::create),
        )
        .route(
            "/api/v1/monitors/{monitor_id}",
            get(monitors::detail)
                .patch(monitors::change)
                .delete(monitors::remove),
        )
        .route(
            "/api/v1/monitors/{monitor_id}/checkins",
            get(monitors::checkins),
        )
        .route("/api/v1/tokens", get(list_tokens))
        .route(
            "/api/v1/tokens/{token_id}",
            axum::routing::delete(revoke_token),
        )
}

async fn projects(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<ProjectsJson>, ApiError> {
    let visible = access::visible_projects(&state.store, &account).await?;
    let mut projects = Vec::with_capacity(visible.len());
    for project in visible {
        let keys = state.store.project_keys(project.id).await?;
        projects.push(ProjectJson {
            dsn: keys
                .iter()
                .find(|k| k.active)
                .map(|k| state.config.dsn(&k.public_key, project.id)),
            id: project.id,
            name: project.name,
            rate_limit_per_minute: project.rate_limit_per_minute,
        });
    }
    Ok(Json(ProjectsJson { projects }))
}

async fn list_issues(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Json<IssuesJson>, ApiError> {
    access::visible_project(&state.store, &account, project_id).await?;
    // Without a status the API lists every issue (the UI's tabs default to open ones).
    let filter = query.filter(None)?;
    let page = issues::list(&state.store, project_id, &filter).await?;
    Ok(Json(IssuesJson {
        issues: page.issues.into_iter().map(IssueJson::from).collect(),
        next_cursor: page.next_offset.map(|offset| offset.to_string()),
    }))
}

async fn issue_detail(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<IssueJson>, ApiError> {
    let (_, issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    Ok(Json(issue.into()))
}

/// `PATCH /api/v1/issues/{id}`: a status, with a condition (see
/// [`issues::StatusChange::parse`]).
#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    date: Option<String>,
}

async fn update_issue(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
    AppJson(body): AppJson<StatusBody>,
) -> Result<Json<IssueJson>, ApiError> {
    let (project, _) = access::visible_issue(&state.store, &account, issue_id).await?;
    let change = issues::StatusChange::parse(
        &body.status,
        body.until.as_deref(),
        body.count,
        body.date.as_deref(),
        crate::store::now_ms(),
    )?;
    let issue = change.apply(&state.store, issue_id).await?;
    audit::record_status(&state.store, &account, project.id, issue_id, issue.status).await?;
    Ok(Json(issue.into()))
}

/// `POST /api/v1/projects/{id}/issues/merge` with `{"issues": [..]}`: merged into the
/// one with the most events.
#[derive(Deserialize)]
struct MergeBody {
    issues: Vec<i64>,
}

async fn merge_issues(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<MergeBody>,
) -> Result<Json<IssueJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Triage).await?;
    if body.issues.len() > 200 {
        return Err(ApiError::bad_request("at most 200 issues at once"));
    }
    let target = issues::merge(&state.store, project_id, &body.issues).await??;
    let others: Vec<String> = body
        .issues
        .iter()
        .filter(|&&id| id != target.id)
        .map(|id| format!("#{id}"))
        .collect();
    audit::record(
        &state.store,
        &account,
        project_id,
        AuditAction::IssuesMerged,
        format!("issues {} into issue {}", others.join(", "), target.id),
    )
    .await?;
    Ok(Json(target.into()))
}

/// `POST /api/v1/issues/{id}/unmerge`: takes a merged issue out again.
async fn unmerge_issue(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<IssueJson>, ApiError> {
    let (project, _) = access::visible_issue(&state.store, &account, issue_id).await?;
    let issue = state
        .store
        .unmerge_issue(project.id, issue_id)
        .await
        .map_err(|error| match error {
            crate::store::StoreError::Conflict(text) => ApiError::bad_request(text),
            other => other.into(),
        })?;
    audit::record(
        &state.store,
        &account,
        project.id,
        AuditAction::IssueUnmerged,
        format!("issue {issue_id}"),
    )
    .await?;
    Ok(Json(issue.into()))
}

#[derive(Deserialize)]
struct EventsQuery {
    cursor: Option<String>,
}

async fn issue_events(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventsJson>, ApiError> {
    access::visible_issue(&state.store, &account, issue_id).await?;
    let offset = ListQuery {
        cursor: query.cursor,
        ..Default::default()
    }
    .offset()?;
    let page = issues::PAGE_SIZE;
    let mut events = state.store.issue_events(issue_id, offset, page + 1).await?;
    let next = (events.len() as u64 > page).then(|| (offset + page).to_string());
    events.truncate(page as usize);
    Ok(Json(EventsJson {
        events: events.into_iter().map(EventJson::from).collect(),
        next_cursor: next,
    }))
}

async fn issue_users(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<UsersJson>, ApiError> {
    let (project, issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    let users = state.store.issue_users(issue_id).await?;
    let users = users.into_iter().map(|user| (user, None)).collect();
    let candidates = crate::outreach::candidates_of(
        &state.store,
        &project,
        &issue,
        users,
        crate::store::now_ms(),
    )
    .await?;
    Ok(Json(UsersJson {
        users: candidates.into_iter().map(UserJson::from).collect(),
    }))
}

#[derive(Deserialize)]
struct RecipientBody {
    email: String,
}

async fn recipients(state: &AppState, project_id: i64) -> Result<Json<RecipientsJson>, ApiError> {
    Ok(Json(RecipientsJson {
        recipients: state.store.recipients(project_id).await?,
    }))
}

async fn list_recipients(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<RecipientsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    recipients(&state, project_id).await
}

async fn add_recipient(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<RecipientBody>,
) -> Result<Json<RecipientsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    accounts::check_email(&body.email)?;
    state.store.add_recipient(project_id, &body.email).await?;
    audit::record(
        &state.store,
        &account,
        project_id,
        AuditAction::RecipientAdded,
        &body.email,
    )
    .await?;
    recipients(&state, project_id).await
}

async fn remove_recipient(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<RecipientBody>,
) -> Result<Json<RecipientsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
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
    audit::record(
        &state.store,
        &account,
        project_id,
        AuditAction::RecipientRemoved,
        &body.email,
    )
    .await?;
    recipients(&state, project_id).await
}

#[derive(Deserialize)]
struct WebhookBody {
    url: String,
    secret: Option<String>,
}

async fn list_webhooks(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<WebhooksJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let hooks = state.store.webhooks(project_id).await?;
    Ok(Json(WebhooksJson {
        webhooks: hooks.into_iter().map(WebhookJson::listed).collect(),
    }))
}

async fn add_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<WebhookBody>,
) -> Result<Json<WebhookJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let hook = webhooks::add(
        &state.store,
        &state.config,
        &account,
        project_id,
        &body.url,
        body.secret,
    )
    .await
    .map_err(|error| match error {
        webhooks::WebhookError::Target(e) => ApiError::bad_request(e.to_string()),
        webhooks::WebhookError::Store(e) => e.into(),
    })?;
    // The secret is shown once, here.
    Ok(Json(WebhookJson {
        id: hook.id,
        url: hook.url,
        secret: Some(hook.secret),
    }))
}

async fn remove_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, webhook_id)): ApiPath<(i64, i64)>,
) -> Result<Json<RemovedJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    if !webhooks::remove(&state.store, &account, project_id, webhook_id).await? {
        return Err(ApiError::not_found(format!(
            "webhook {webhook_id} not found"
        )));
    }
    Ok(Json(RemovedJson {
        removed: webhook_id,
    }))
}

async fn notifications(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<NotificationsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let rows = state.store.notifications(project_id, None, 100).await?;
    Ok(Json(NotificationsJson {
        notifications: rows.into_iter().map(NotificationJson::from).collect(),
    }))
}

/// One's own API tokens (never the tokens themselves: only their hashes are kept).
async fn list_tokens(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<views::TokensJson>, ApiError> {
    let tokens = state.store.tokens(account.id).await?;
    Ok(Json(views::TokensJson {
        tokens: tokens.into_iter().map(views::TokenJson::from).collect(),
    }))
}

/// Revokes one of one's own tokens (possibly the one asking).
async fn revoke_token(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(token_id): ApiPath<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.store.revoke_token(account.id, token_id).await? {
        return Err(ApiError::not_found(format!("token {token_id} not found")));
    }
    Ok(Json(serde_json::json!({"revoked": token_id})))
}

/// The project's latest changes, newest first (project admins).
async fn audit_log(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<views::AuditJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let entries = state.store.audit_log(project_id, AUDIT_PAGE).await?;
    Ok(Json(views::AuditJson {
        entries: entries
            .into_iter()
            .map(views::AuditEntryJson::from)
            .collect(),
    }))
}

/// Audit entries shown at once.
const AUDIT_PAGE: u64 = 200;
