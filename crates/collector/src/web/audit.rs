//! A project's audit log page (project admins): who changed what, and when.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};

use super::WebError;
use super::format::when;
use super::layout::{self, html};
use super::session::SignedIn;
use crate::access::{self, Need};
use crate::state::AppState;
use crate::store::entities::project;

/// The project's latest changes (project admins).
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let entries = state.store.audit_log(project_id, 200).await?;
    Ok(html(markup(&signed_in, &project, &entries)))
}

/// A project's audit log: who changed what, and when.
fn markup(
    signed_in: &SignedIn,
    project: &project::Model,
    entries: &[crate::store::entities::audit_entry::Model],
) -> Markup {
    layout::page(
        &format!("{} audit log", project.name),
        signed_in,
        html! {
            h1 { (project.name) " audit log" }
            p { a href={ "/projects/" (project.id) "/settings" } { "Back to settings" } }
            @if entries.is_empty() { p.muted { "No changes yet." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Who" } th { "What" } th { "To" } } }
                    tbody { @for entry in entries {
                        tr { td { (when(entry.at)) } td { (entry.actor) } td { (entry.action) } td { (entry.target) } }
                    } }
                }
            }
        },
    )
}
