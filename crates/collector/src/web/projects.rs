//! The projects page (each project's unresolved issues and recent events) and
//! creating a project.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, html, html_with_status};
use super::session::SignedIn;
use super::{WebError, forms::check_csrf};
use crate::access;
use crate::projects::SettingsError;
use crate::state::AppState;
use crate::store::entities::project;
use crate::store::{ProjectSummary, StoreError};

/// `GET /`: the projects one may see.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    render(&state, &signed_in, None).await
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let projects = access::visible_projects(&state.store, &signed_in.account).await?;
    let mut rows = Vec::with_capacity(projects.len());
    for project in projects {
        let summary = state.store.project_summary(project.id).await?;
        rows.push((project, summary));
    }
    let page = markup(signed_in, &rows, error);
    Ok(match error {
        Some(_) => html_with_status(StatusCode::BAD_REQUEST, page),
        None => html(page),
    })
}

#[derive(Deserialize)]
pub(super) struct NewProjectForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

/// Creates a project (instance admins), its first key, with its creator as a project
/// admin; shows its page, which says how to send the first event.
pub(super) async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<NewProjectForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    if !signed_in.account.is_admin {
        return Err(WebError::NotFound);
    }
    let created = match crate::projects::create(&state.store, &signed_in.account, &form.name).await
    {
        Ok(created) => created,
        Err(SettingsError::Invalid(message)) => {
            return render(&state, &signed_in, Some(&message)).await;
        }
        Err(SettingsError::Store(StoreError::Conflict(_))) => {
            let message = format!("A project named {:?} exists already.", form.name.trim());
            return render(&state, &signed_in, Some(&message)).await;
        }
        Err(SettingsError::Store(error)) => return Err(error.into()),
    };
    let project_id = created.project.id;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues")).into_response())
}

/// Projects with their unresolved issues and recent events.
fn markup(
    signed_in: &SignedIn,
    rows: &[(project::Model, ProjectSummary)],
    error: Option<&str>,
) -> Markup {
    layout::page(
        "Projects",
        signed_in,
        html! {
            h1 { "Projects" }
            @if let Some(error) = error { p.notice.failed role="alert" { (error) } }
            @if rows.is_empty() {
                p.muted { "You are not a member of any project yet." }
            } @else {
                table {
                    thead { tr { th { "Project" } th.num { "Unresolved issues" } th.num { "Events, last 24 h" } } }
                    tbody {
                        @for (project, summary) in rows {
                            tr {
                                td { a href={ "/projects/" (project.id) "/issues" } { (project.name) } }
                                td.num { (summary.unresolved_issues) }
                                td.num { (summary.events_last_day) }
                            }
                        }
                    }
                }
            }
            @if signed_in.account.is_admin {
                section #new-project {
                    h2 { "New project" }
                    form method="post" action="/projects" {
                        input type="hidden" name="csrf" value=(signed_in.csrf);
                        label for="project-name" { "Name " }
                        input #project-name type="text" name="name" required maxlength="100" placeholder="shop";
                        " " button type="submit" { "Create" }
                    }
                }
            }
        },
    )
}
