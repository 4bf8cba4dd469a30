//! Issues over the API: the list (the search box's syntax in `query`), one issue, status
//! changes with their conditions, merging and unmerging, and an issue's affected users.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::{IssueJson, IssuesJson, UserJson, UsersJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::issues::{self, ListQuery};
use crate::state::AppState;

pub(super) async fn list_issues(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Json<IssuesJson>, ApiError> {
    access::visible_project(&state.store, &account, project_id).await?;
    // Without a status the API lists every issue (the UI's tabs default to open ones).
    let filter = query.filter(issues::Tab::All)?;
    let page = issues::list(&state.store, project_id, &filter).await?;
    Ok(Json(IssuesJson {
        issues: page.issues.into_iter().map(IssueJson::from).collect(),
        next_cursor: page.next_offset.map(|offset| offset.to_string()),
    }))
}

pub(super) async fn issue_detail(
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
pub(super) struct StatusBody {
    status: String,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    date: Option<String>,
}

pub(super) async fn update_issue(
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
    let issue = change
        .apply(&state.store, &account, project.id, issue_id)
        .await?;
    Ok(Json(issue.into()))
}

/// `POST /api/v1/projects/{id}/issues/merge` with `{"issues": [..]}`: merged into the
/// one with the most events.
#[derive(Deserialize)]
pub(super) struct MergeBody {
    issues: Vec<i64>,
}

pub(super) async fn merge_issues(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<MergeBody>,
) -> Result<Json<IssueJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Triage).await?;
    if body.issues.len() > 200 {
        return Err(ApiError::bad_request("at most 200 issues at once"));
    }
    let target = issues::merge(&state.store, &account, project_id, &body.issues).await??;
    Ok(Json(target.into()))
}

/// `POST /api/v1/issues/{id}/unmerge`: takes a merged issue out again.
pub(super) async fn unmerge_issue(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<IssueJson>, ApiError> {
    let (project, _) = access::visible_issue(&state.store, &account, issue_id).await?;
    let issue = issues::unmerge(&state.store, &account, project.id, issue_id)
        .await
        .map_err(|error| match error {
            crate::store::StoreError::Conflict(text) => ApiError::bad_request(text),
            other => other.into(),
        })?;
    Ok(Json(issue.into()))
}

pub(super) async fn issue_users(
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
