//! Who gets a project's notification emails (project admins), changed through
//! [`projects`](crate::projects) like the settings page and the command line do.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::RecipientsJson;
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::projects;
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct RecipientBody {
    email: String,
}

async fn recipients(state: &AppState, project_id: i64) -> Result<Json<RecipientsJson>, ApiError> {
    Ok(Json(RecipientsJson {
        recipients: state.store.recipients(project_id).await?,
    }))
}

pub(super) async fn list_recipients(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<RecipientsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    recipients(&state, project_id).await
}

pub(super) async fn add_recipient(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<RecipientBody>,
) -> Result<Json<RecipientsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    projects::add_recipient(&state.store, &account, project_id, &body.email).await?;
    recipients(&state, project_id).await
}

pub(super) async fn remove_recipient(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<RecipientBody>,
) -> Result<Json<RecipientsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    if !projects::remove_recipient(&state.store, &account, project_id, &body.email).await? {
        return Err(ApiError::not_found(format!(
            "{} is not a recipient",
            body.email
        )));
    }
    recipients(&state, project_id).await
}
