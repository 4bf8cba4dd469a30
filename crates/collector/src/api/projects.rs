//! The projects an account may see, with their DSN and rate limit.

use axum::Json;
use axum::extract::State;

use super::extract::ApiAccount;
use super::views::{ProjectJson, ProjectsJson};
use crate::access;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn projects(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<ProjectsJson>, ApiError> {
    let visible = access::visible_projects(&state.store, &account).await?;
    let mut projects = Vec::with_capacity(visible.len());
    for project in visible {
        let keys = state.store.project_keys(project.id).await?;
        projects.push(ProjectJson {
            dsn: keys
                .iter()
                .find(|k| k.active)
                .map(|k| state.config.dsn(&k.public_key, project.id)),
            id: project.id,
            name: project.name,
            rate_limit_per_minute: project.rate_limit_per_minute,
        });
    }
    Ok(Json(ProjectsJson { projects }))
}
