//! A project's audit log, newest first (project admins).

use axum::Json;
use axum::extract::State;

use super::extract::{ApiAccount, ApiPath};
use super::views;
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;

/// The project's latest changes, newest first (project admins).
pub(super) async fn audit_log(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<views::AuditJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let entries = state.store.audit_log(project_id, AUDIT_PAGE).await?;
    Ok(Json(views::AuditJson {
        entries: entries
            .into_iter()
            .map(views::AuditEntryJson::from)
            .collect(),
    }))
}

/// Audit entries shown at once.
const AUDIT_PAGE: u64 = 200;
