//! A project's debug files page (project admins): the files uploaded for its stripped
//! binaries (name, debug id, size, when), how to upload more, a delete button each,
//! through [`debug_files`](crate::debug_files) like the API; and the template that links
//! in-app frames to their line in the repository.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::format::when;
use super::layout::{self, html};
use super::session::SignedIn;
use super::{WebError, forms::check_csrf};
use crate::access::{self, Need};
use crate::state::AppState;
use crate::store::entities::{DebugFileKind, debug_file, project};

/// `GET /projects/{id}/debug-files`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let files = state.store.debug_files(project_id).await?;
    let limit = state.config.debug_files_max_bytes;
    Ok(html(markup(
        &signed_in,
        &project,
        &files,
        limit,
        &state.config.base_url(),
    )))
}

#[derive(Deserialize)]
pub(super) struct DebugFilesForm {
    #[serde(default)]
    csrf: String,
    /// A file to delete.
    #[serde(default)]
    file_id: Option<i64>,
    /// The source link template to set (empty: none).
    #[serde(default)]
    source_template: Option<String>,
}

/// `POST /projects/{id}/debug-files`: deletes one, or sets the source link template.
pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(form): Form<DebugFilesForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    if let Some(template) = &form.source_template {
        crate::tickets::set_source_template(
            &state.store,
            &signed_in.account,
            project_id,
            Some(template.as_str()),
        )
        .await
        .map_err(|error| match error {
            crate::tickets::TicketError::Store(e) => e.into(),
            other => WebError::BadRequest(format!("The source link template: {other}.")),
        })?;
    } else if let Some(file_id) = form.file_id {
        if !crate::debug_files::remove(&state.store, &signed_in.account, project_id, file_id)
            .await?
        {
            return Err(WebError::NotFound);
        }
    } else {
        return Err(WebError::BadRequest(
            "The form sent nothing to change.".into(),
        ));
    }
    Ok(Redirect::to(&format!("/projects/{project_id}/debug-files")).into_response())
}

/// What a file gives: names (with or without its sources uploaded too), or sources.
fn holds(file: &debug_file::Model) -> &'static str {
    match (file.kind, file.has_sources) {
        (DebugFileKind::Elf, true) => "frame names; its sources too",
        (DebugFileKind::Elf, false) => "frame names",
        (DebugFileKind::Sources, _) => "source lines",
    }
}

/// `1.5 MB`, `34.7 MB`.
fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn markup(
    signed_in: &SignedIn,
    project: &project::Model,
    files: &[debug_file::Model],
    limit: u64,
    base_url: &str,
) -> Markup {
    let used: i64 = files.iter().map(|f| f.size).sum();
    let target = format!("/projects/{}/debug-files", project.id);
    layout::page(
        &format!("{} debug files", project.name),
        signed_in,
        html! {
            p { a href={ "/projects/" (project.id) "/settings" } { "← " (project.name) " settings" } }
            h1 { (project.name) " debug files" }
            p { "The frames of stripped release binaries are named from these files. "
                (megabytes(used)) " of " (megabytes(i64::try_from(limit).unwrap_or(i64::MAX))) " used (MAYDAY_DEBUG_FILES_MAX_BYTES)." }
            h2 { "Upload" }
            p { "Split the debug information off before stripping, then upload it from CI:" }
            pre {
                "objcopy --only-keep-debug target/release/app app.debug\n"
                "objcopy --strip-all target/release/app\n"
                "mayday-collector debug-files upload --project " (project.name) " \\\n    --url " (base_url) " --token $MAYDAY_TOKEN --include-sources app.debug"
            }
            p.muted { "Or " code { "sentry-cli --url " (base_url) " --auth-token $MAYDAY_TOKEN debug-files upload --org any --project " (project.name) " --include-sources app.debug" } ". "
                code { "--include-sources" } " also uploads the source files the build used (run it where the build ran): the issue page then shows the lines around each of the app's frames." }
            h2 { "Source links" }
            p { "In-app frames link to their line in your repository at the commit of the event's build (the reporter sends it; a release's " code { "+commit" } " works too)." }
            form.stack method="post" action=(target) {
                input type="hidden" name="csrf" value=(signed_in.csrf);
                label { span.label { "Link template, with {commit}, {path} and {line} (empty: no links)" }
                    input name="source_template" value=(project.source_link_template.clone().unwrap_or_default())
                        placeholder="https://github.com/acme/shop/blob/{commit}/{path}#L{line}"; }
                button type="submit" { "Save" }
            }
            h2 { "Files" }
            @if files.is_empty() { p.muted { "None yet: stripped binaries' frames show addresses only." } }
            @else {
                table {
                    thead { tr { th { "Name" } th { "Debug id" } th { "Holds" } th.num { "Size" } th { "Uploaded" } th { span.sr-only { "Delete" } } } }
                    tbody { @for file in files {
                        tr {
                            td.wrap data-label="Name" { (file.name) }
                            td.wrap data-label="Debug id" { code { (file.debug_id) } }
                            td data-label="Holds" { (holds(file)) }
                            td.num data-label="Size" { (megabytes(file.size)) }
                            td data-label="Uploaded" { (when(file.created_at)) }
                            td { form method="post" action=(target) {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                input type="hidden" name="file_id" value=(file.id);
                                button.danger type="submit" aria-label={ "Delete " (file.name) } { "Delete" }
                            } }
                        }
                    } }
                }
            }
        },
    )
}
