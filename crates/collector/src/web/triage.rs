//! Triage: one issue's status (resolve, resolve in the next release, ignore, ignore until
//! more events, more users or a date, reopen), and many issues selected on the list
//! resolved, ignored, reopened or assigned at once; an issue assigned, its ticket
//! linked. Members may; each change is in the audit log.

use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebError;
use super::forms::check_csrf;
use super::session::SignedIn;
use crate::access::{self, Need};
use crate::issues::{self, StatusChange};
use crate::state::AppState;
use crate::store::IssueStatus;
use crate::{assignment, tickets};

#[derive(Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    csrf: String,
    status: String,
    /// `next_release` (with resolved); `events`, `users` or `date` (with ignored).
    #[serde(default)]
    until: String,
    /// How many more events or users.
    #[serde(default)]
    count: Option<String>,
    /// `YYYY-MM-DD`, UTC.
    #[serde(default)]
    date: Option<String>,
    /// With resolved: tell the affected users when the fix is live.
    #[serde(default)]
    follow_up: Option<String>,
}

/// `POST /projects/{id}/issues/{id}/status`.
pub(super) async fn change_status(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(form): Form<StatusForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    let store = &state.store;
    let count = match form
        .count
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(count) => Some(count.parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!(
                "The count is a number from 1 to {}.",
                issues::MAX_SNOOZE_COUNT
            ))
        })?),
        None => None,
    };
    let change = StatusChange::parse(
        &form.status,
        Some(form.until.as_str()),
        count,
        form.date.as_deref(),
        crate::store::now_ms(),
    )
    .map_err(|e| WebError::BadRequest(capitalized(&e.to_string())))?;
    let changed = change
        .apply(store, &signed_in.account, project_id, issue_id)
        .await?;
    let status = changed.status;
    if status == IssueStatus::Resolved && form.follow_up.as_deref().is_some_and(|v| !v.is_empty()) {
        let (project, issue) =
            access::visible_issue_in(store, &signed_in.account, project_id, issue_id).await?;
        match crate::outreach::request_follow_up(store, &signed_in.account, &project, &issue).await
        {
            Ok(()) => {}
            Err(crate::outreach::OutreachError::Store(error)) => return Err(error.into()),
            Err(other) => return Err(WebError::BadRequest(capitalized(&other.to_string()))),
        }
    }
    Ok(Redirect::to(&format!("/projects/{project_id}/issues/{issue_id}")).into_response())
}

/// Most issues changed by one request (a page holds 50).
const MAX_SELECTED: usize = 200;

/// `POST /projects/{id}/issues/bulk`: `issue` (repeated), `status`, `csrf`, `back`.
pub(super) async fn bulk_status(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    body: Bytes,
) -> Result<Response, WebError> {
    let mut csrf = String::new();
    let mut status = None;
    let mut merge = false;
    let mut assign = false;
    let mut assignee = String::new();
    let mut back = None;
    let mut ids = Vec::new();
    for (name, value) in url::form_urlencoded::parse(&body) {
        match name.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "status" => status = Some(value.into_owned()),
            "merge" => merge = true,
            "assign" => assign = true,
            "assignee" => assignee = value.into_owned(),
            "back" => back = Some(value.into_owned()),
            "issue" => ids.push(
                value
                    .parse::<i64>()
                    .map_err(|_| WebError::BadRequest(format!("{value:?} is not an issue id.")))?,
            ),
            _ => {}
        }
    }
    check_csrf(&signed_in, &csrf)?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Triage).await?;
    if ids.len() > MAX_SELECTED {
        return Err(WebError::BadRequest(format!(
            "At most {MAX_SELECTED} issues at once."
        )));
    }
    if merge {
        let target = merge_selected(&state, &signed_in, project_id, &ids).await?;
        return Ok(
            Redirect::to(&format!("/projects/{project_id}/issues/{target}")).into_response(),
        );
    }
    if assign {
        assignment::assign_many(
            &state.store,
            &signed_in.account,
            project_id,
            &ids,
            Some(assignee.as_str()),
        )
        .await
        .map_err(assign_refused)?;
    } else {
        let status: IssueStatus = status
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| WebError::BadRequest("Unknown status.".into()))?;
        issues::set_statuses(&state.store, &signed_in.account, project_id, &ids, status).await?;
    }
    // Back to the same list page (same filters), and nowhere else.
    let list = format!("/projects/{project_id}/issues");
    let back = back
        .filter(|b| b == &list || b.starts_with(&format!("{list}?")))
        // A header value cannot hold control characters.
        .filter(|b| !b.chars().any(char::is_control))
        .unwrap_or(list);
    Ok(Redirect::to(&back).into_response())
}

/// Merges the selected issues (see [`issues::merge`]); returns the target's id.
async fn merge_selected(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    ids: &[i64],
) -> Result<i64, WebError> {
    let target = issues::merge(&state.store, &signed_in.account, project_id, ids)
        .await?
        .map_err(|e| WebError::BadRequest(capitalized(&e.to_string())))?;
    Ok(target.id)
}

/// "Select two issues or more to merge.", from the domain's lowercase message.
fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// `POST /projects/{id}/issues/{id}/unmerge`: takes a merged issue out again.
pub(super) async fn unmerge(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    let issue = issues::unmerge(&state.store, &signed_in.account, project_id, issue_id)
        .await
        .map_err(|error| match error {
            crate::store::StoreError::Conflict(text) => WebError::BadRequest(text),
            other => other.into(),
        })?;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues/{}", issue.id)).into_response())
}

fn assign_refused(error: assignment::AssignError) -> WebError {
    match error {
        assignment::AssignError::Store(e) => e.into(),
        other => WebError::BadRequest(capitalized(&other.to_string())),
    }
}

#[derive(Deserialize)]
pub(super) struct AssignForm {
    #[serde(default)]
    csrf: String,
    /// An email; empty: nobody.
    #[serde(default)]
    assignee: String,
}

/// `POST /projects/{id}/issues/{id}/assign`: a member assigns the issue (or unassigns
/// it).
pub(super) async fn assign(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(form): Form<AssignForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Triage).await?;
    assignment::assign(
        &state.store,
        &signed_in.account,
        project_id,
        issue_id,
        Some(form.assignee.as_str()),
    )
    .await
    .map_err(assign_refused)?;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues/{issue_id}")).into_response())
}

#[derive(Deserialize)]
pub(super) struct TicketForm {
    #[serde(default)]
    csrf: String,
    /// The ticket's URL; empty: unlinks.
    #[serde(default)]
    url: String,
}

/// `POST /projects/{id}/issues/{id}/ticket`: the ticket the team filed, pasted back.
pub(super) async fn link_ticket(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(form): Form<TicketForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Triage).await?;
    tickets::link(
        &state.store,
        &signed_in.account,
        project_id,
        issue_id,
        Some(form.url.as_str()),
    )
    .await
    .map_err(|error| match error {
        tickets::TicketError::Store(e) => e.into(),
        other => WebError::BadRequest(format!("The ticket's URL: {other}.")),
    })?;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues/{issue_id}")).into_response())
}

/// The longest comment, in characters.
const MAX_COMMENT_CHARS: usize = 5000;

#[derive(Deserialize)]
pub(super) struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

/// `POST /projects/{id}/issues/{id}/comments`: a member's note in the issue's history.
pub(super) async fn comment(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(form): Form<CommentForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    let body = form.body.trim();
    if body.is_empty() || body.chars().count() > MAX_COMMENT_CHARS {
        return Err(WebError::BadRequest(format!(
            "A comment is 1 to {MAX_COMMENT_CHARS} characters."
        )));
    }
    let body: String = body.chars().filter(|c| *c != '\0').collect();
    state
        .store
        .add_comment(project_id, issue_id, &signed_in.account.email, &body)
        .await?;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues/{issue_id}#history")).into_response())
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}
