//! Triage: one issue's status (resolve, resolve in the next release, ignore, ignore until
//! more events, more users or a date, reopen), and many issues selected on the list
//! resolved, ignored or reopened at once. Members may; each change is in the audit log.

use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::SignedIn;
use super::{WebError, check_csrf};
use crate::access::{self, Need};
use crate::store::{AuditAction, IssueStatus, Snooze};
use crate::{AppState, audit};

/// The most events or users an issue may be ignored for.
const MAX_SNOOZE_COUNT: i64 = 1_000_000;

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
}

/// What a status form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Plain(IssueStatus),
    NextRelease,
    Snooze(Snooze),
}

fn change(form: &StatusForm, now: i64) -> Result<Change, WebError> {
    let status: IssueStatus = form
        .status
        .parse()
        .map_err(|_| WebError::BadRequest("Unknown status.".into()))?;
    let count = || -> Result<i64, WebError> {
        form.count
            .as_deref()
            .and_then(|c| c.trim().parse::<i64>().ok())
            .filter(|c| (1..=MAX_SNOOZE_COUNT).contains(c))
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "The count is a number from 1 to {MAX_SNOOZE_COUNT}."
                ))
            })
    };
    Ok(match (status, form.until.as_str()) {
        (_, "") => Change::Plain(status),
        (IssueStatus::Resolved, "next_release") => Change::NextRelease,
        (IssueStatus::Ignored, "events") => Change::Snooze(Snooze::MoreEvents(count()?)),
        (IssueStatus::Ignored, "users") => Change::Snooze(Snooze::MoreUsers(count()?)),
        (IssueStatus::Ignored, "date") => {
            let date = form.date.as_deref().unwrap_or_default();
            let at = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_millis())
                .filter(|at| *at > now)
                .ok_or_else(|| {
                    WebError::BadRequest("The date is a day after today, as YYYY-MM-DD.".into())
                })?;
            Change::Snooze(Snooze::Until(at))
        }
        _ => return Err(WebError::BadRequest("Unknown status change.".into())),
    })
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
    let status = match change(&form, crate::store::now_ms())? {
        Change::Plain(status) => store.set_issue_status(issue_id, status).await?.status,
        Change::NextRelease => store.resolve_in_next_release(issue_id).await?.status,
        Change::Snooze(snooze) => store.snooze_issue(issue_id, snooze).await?.status,
    };
    audit::record_status(store, &signed_in.account, project_id, issue_id, status).await?;
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
    let mut back = None;
    let mut ids = Vec::new();
    for (name, value) in url::form_urlencoded::parse(&body) {
        match name.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "status" => status = Some(value.into_owned()),
            "merge" => merge = true,
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
    let status: IssueStatus = status
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|_| WebError::BadRequest("Unknown status.".into()))?;
    let changed = state
        .store
        .set_issues_status(project_id, &ids, status)
        .await?;
    for issue_id in changed {
        audit::record_status(
            &state.store,
            &signed_in.account,
            project_id,
            issue_id,
            status,
        )
        .await?;
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

/// Merges the selected issues into the one with the most events (the one the team
/// knows best); returns its id.
async fn merge_selected(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    ids: &[i64],
) -> Result<i64, WebError> {
    let mut selected = Vec::with_capacity(ids.len());
    for &id in ids {
        match state.store.issue(id).await? {
            Some(issue) if issue.project_id == project_id && issue.merged_into.is_none() => {
                selected.push(issue);
            }
            _ => return Err(WebError::NotFound),
        }
    }
    if selected.len() < 2 {
        return Err(WebError::BadRequest(
            "Select two issues or more to merge.".into(),
        ));
    }
    selected.sort_by_key(|issue| (std::cmp::Reverse(issue.event_count), issue.id));
    let target = selected[0].id;
    let sources: Vec<i64> = selected[1..].iter().map(|issue| issue.id).collect();
    state
        .store
        .merge_issues(project_id, target, &sources)
        .await?;
    let names: Vec<String> = sources.iter().map(|id| format!("#{id}")).collect();
    audit::record(
        &state.store,
        &signed_in.account,
        project_id,
        AuditAction::IssuesMerged,
        format!("issues {} into issue {target}", names.join(", ")),
    )
    .await?;
    Ok(target)
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
    let issue = state
        .store
        .unmerge_issue(project_id, issue_id)
        .await
        .map_err(|error| match error {
            crate::store::StoreError::Conflict(text) => WebError::BadRequest(text),
            other => other.into(),
        })?;
    audit::record(
        &state.store,
        &signed_in.account,
        project_id,
        AuditAction::IssueUnmerged,
        format!("issue {issue_id}"),
    )
    .await?;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues/{}", issue.id)).into_response())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form(status: &str, until: &str, count: Option<&str>, date: Option<&str>) -> StatusForm {
        StatusForm {
            csrf: String::new(),
            status: status.into(),
            until: until.into(),
            count: count.map(Into::into),
            date: date.map(Into::into),
        }
    }

    #[test]
    fn status_forms_parse_or_say_why_not() {
        let now = 1_780_000_000_000; // 2026-05-28
        assert_eq!(
            change(&form("resolved", "", None, None), now).ok(),
            Some(Change::Plain(IssueStatus::Resolved))
        );
        assert_eq!(
            change(&form("resolved", "next_release", None, None), now).ok(),
            Some(Change::NextRelease)
        );
        assert_eq!(
            change(&form("ignored", "events", Some("100"), None), now).ok(),
            Some(Change::Snooze(Snooze::MoreEvents(100)))
        );
        assert_eq!(
            change(&form("ignored", "date", None, Some("2026-12-01")), now).ok(),
            Some(Change::Snooze(Snooze::Until(1_796_083_200_000)))
        );
        for bad in [
            form("ignored", "events", Some("0"), None),
            form("ignored", "users", Some("lots"), None),
            form("ignored", "date", None, Some("2020-01-01")),
            form("ignored", "date", None, Some("soon")),
            form("resolved", "users", Some("3"), None),
            form("ignored", "next_release", None, None),
        ] {
            assert!(change(&bad, now).is_err());
        }
    }
}
