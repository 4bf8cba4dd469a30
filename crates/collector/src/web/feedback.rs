//! A project's Feedback page: what the people crashes hit wrote, newest first, each
//! with the issue of its event (feedback without an event, or whose event is not
//! stored, too), for whoever may see the project's issues.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};

use super::WebError;
use super::layout::{self, html};
use super::session::SignedIn;
use crate::access::{self, Need};
use crate::state::AppState;
use crate::store::entities::{feedback, project};

/// `GET /projects/{id}/feedback`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::View).await?;
    let rows = state.store.project_feedback(project_id, 200).await?;
    let base_url = state.config.base_url();
    Ok(html(markup(&signed_in, &project, &rows, &base_url)))
}

fn markup(
    signed_in: &SignedIn,
    project: &project::Model,
    rows: &[(feedback::Model, Option<i64>)],
    base_url: &str,
) -> Markup {
    let issues = format!("/projects/{}/issues", project.id);
    layout::page(
        &format!("{} feedback", project.name),
        signed_in,
        html! {
            p { a href=(issues) { "← " (project.name) " issues" } }
            h1 { (project.name) " feedback" }
            @if rows.is_empty() {
                p.muted { "Nobody has written yet. People write from the error page (the reporter's "
                    code { "ErrorPage" } ", or Sentry's " code { "showReportDialog" } " with this collector's DSN) or through an SDK's "
                    code { "captureFeedback" } "."}
                p.muted { "The dialog's script: " code.wrap { (base_url) "/api/embed/error-page/?dsn=DSN&eventId=EVENT_ID" } }
            }
            @for (said, issue) in rows {
                @match issue {
                    Some(issue) => {
                        p.small { "About " a href={ (issues) "/" (issue) } { "issue " (issue) } }
                        (super::issue::feedback_list(std::slice::from_ref(said), Some(&format!("{issues}/{issue}"))))
                    }
                    None => {
                        p.small.muted { @if said.event_id.is_some() { "About an event not stored (yet)" } @else { "About no event" } }
                        (super::issue::feedback_list(std::slice::from_ref(said), None))
                    }
                }
            }
        },
    )
}
