//! A project's latest notifications and where each delivery stands (project admins).

use axum::Json;
use axum::extract::State;

use super::extract::{ApiAccount, ApiPath};
use super::views::{NotificationJson, NotificationsJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn notifications(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<NotificationsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let rows = state.store.notifications(project_id, None, 100).await?;
    Ok(Json(NotificationsJson {
        notifications: rows.into_iter().map(NotificationJson::from).collect(),
    }))
}
