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
use crate::{assignment, tickets};

pub(super) async fn list_issues(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Json<IssuesJson>, ApiError> {
    access::visible_project(&state.store, &account, project_id).await?;
    // Without a status the API lists every issue (the UI's tabs default to open ones).
    let filter = query.filter(issues::Tab::All, &account.email)?;
    let page = issues::list(&state.store, project_id, &filter).await?;
    let mut issues: Vec<IssueJson> = page.issues.into_iter().map(IssueJson::from).collect();
    IssueJson::name_assignees(&state.store, &mut issues).await?;
    Ok(Json(IssuesJson {
        issues,
        next_cursor: page.next_offset.map(|offset| offset.to_string()),
    }))
}

pub(super) async fn issue_detail(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<IssueJson>, ApiError> {
    let (_, issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    Ok(Json(IssueJson::named(&state.store, issue).await?))
}

/// `PATCH /api/v1/issues/{id}`: a status, with a condition (see
/// [`issues::StatusChange::parse`]), and/or an assignee (an email, or `null`).
#[derive(Deserialize)]
pub(super) struct IssueChange {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    date: Option<String>,
    /// Absent: unchanged; `null`: unassigned.
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
}

/// A field that is absent (`None`) or present, maybe `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

pub(super) async fn update_issue(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
    AppJson(body): AppJson<IssueChange>,
) -> Result<Json<IssueJson>, ApiError> {
    let (project, mut issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    if body.status.is_none() && body.assignee.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: send \"status\" and/or \"assignee\"",
        ));
    }
    if let Some(assignee) = &body.assignee {
        access::project_for(&state.store, &account, project.id, Need::Triage).await?;
        issue = assignment::assign(
            &state.store,
            &account,
            project.id,
            issue_id,
            assignee.as_deref(),
        )
        .await
        .map_err(|error| match error {
            assignment::AssignError::NotMember(_) => ApiError::bad_request(error.to_string()),
            assignment::AssignError::Store(e) => e.into(),
        })?;
    }
    if let Some(status) = &body.status {
        let change = issues::StatusChange::parse(
            status,
            body.until.as_deref(),
            body.count,
            body.date.as_deref(),
            crate::store::now_ms(),
        )?;
        issue = change
            .apply(&state.store, &account, project.id, issue_id)
            .await?;
    }
    Ok(Json(IssueJson::named(&state.store, issue).await?))
}

/// `PUT /api/v1/issues/{id}/ticket` with `{"url": "..."}` (or `null`).
#[derive(Deserialize)]
pub(super) struct TicketBody {
    url: Option<String>,
}

pub(super) async fn link_ticket(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
    AppJson(body): AppJson<TicketBody>,
) -> Result<Json<IssueJson>, ApiError> {
    let (project, _) = access::visible_issue(&state.store, &account, issue_id).await?;
    access::project_for(&state.store, &account, project.id, Need::Triage).await?;
    let issue = tickets::link(
        &state.store,
        &account,
        project.id,
        issue_id,
        body.url.as_deref(),
    )
    .await
    .map_err(|error| match error {
        tickets::TicketError::Store(e) => e.into(),
        other => ApiError::bad_request(format!("url: {other}")),
    })?;
    Ok(Json(IssueJson::named(&state.store, issue).await?))
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
    Ok(Json(IssueJson::named(&state.store, target).await?))
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
    Ok(Json(IssueJson::named(&state.store, issue).await?))
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
