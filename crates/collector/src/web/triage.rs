//! Triage at list scale: many issues selected on the list, resolved, ignored or
//! reopened at once (members may; each change is in the audit log).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::session::SignedIn;
use super::{WebError, check_csrf};
use crate::access::{self, Need};
use crate::store::IssueStatus;
use crate::{AppState, audit};

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
    let mut back = None;
    let mut ids = Vec::new();
    for (name, value) in url::form_urlencoded::parse(&body) {
        match name.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "status" => status = Some(value.into_owned()),
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
    let status: IssueStatus = status
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|_| WebError::BadRequest("Unknown status.".into()))?;
    if ids.len() > MAX_SELECTED {
        return Err(WebError::BadRequest(format!(
            "At most {MAX_SELECTED} issues at once."
        )));
    }
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
