//! The projects an account may see, with their DSN and rate limit; a project's name and
//! what its customers see of it, changed by its admins.

use axum::Json;
use axum::extract::State;

use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::{ProjectJson, ProjectsJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::projects;
use crate::state::AppState;
use crate::store::entities::project;

pub(super) async fn projects(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<ProjectsJson>, ApiError> {
    let visible = access::visible_projects(&state.store, &account).await?;
    let mut projects = Vec::with_capacity(visible.len());
    for project in visible {
        projects.push(project_json(&state, project).await?);
    }
    Ok(Json(ProjectsJson { projects }))
}

async fn project_json(state: &AppState, project: project::Model) -> Result<ProjectJson, ApiError> {
    let keys = state.store.project_keys(project.id).await?;
    Ok(ProjectJson {
        dsn: keys
            .iter()
            .find(|k| k.active)
            .map(|k| state.config.dsn(&k.public_key, project.id)),
        id: project.id,
        name: project.name,
        sender_name: project.sender_name,
        route_names: project.route_names,
        rate_limit_per_minute: project.rate_limit_per_minute,
    })
}

/// `PATCH /api/v1/projects/{id}` (project admins): any of `name`, `sender_name` and
/// `route_names`; the project as it is now.
#[derive(Deserialize)]
pub(super) struct ProjectPatch {
    name: Option<String>,
    sender_name: Option<String>,
    route_names: Option<String>,
}

pub(super) async fn change_project(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<ProjectPatch>,
) -> Result<Json<ProjectJson>, ApiError> {
    let project = access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    if let Some(name) = body.name.as_deref().filter(|n| n.trim() != project.name) {
        projects::rename(&state.store, &account, project_id, name).await?;
    }
    if body.sender_name.is_some() || body.route_names.is_some() {
        projects::set_customer_words(
            &state.store,
            &account,
            project_id,
            body.sender_name
                .as_deref()
                .or(project.sender_name.as_deref())
                .unwrap_or_default(),
            body.route_names
                .as_deref()
                .or(project.route_names.as_deref())
                .unwrap_or_default(),
        )
        .await?;
    }
    let project = access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    Ok(Json(project_json(&state, project).await?))
}
