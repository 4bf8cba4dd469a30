//! A project's ownership rules and ticket template over the API (project admins),
//! through [`ownership`](crate::ownership) and [`tickets`](crate::tickets) like the
//! settings page.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::{ApiAccount, ApiPath, AppJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{ownership, tickets};

/// The rules, as written.
#[derive(Debug, Serialize, Deserialize)]
pub struct OwnershipJson {
    pub rules: String,
}

/// What applying the rules to open issues did.
#[derive(Debug, Serialize)]
pub struct AppliedJson {
    pub assigned: usize,
}

/// The template (`null`: none).
#[derive(Debug, Serialize, Deserialize)]
pub struct TicketTemplateJson {
    pub template: Option<String>,
}

pub(super) async fn ownership(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<OwnershipJson>, ApiError> {
    let project = access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    Ok(Json(OwnershipJson {
        rules: project.ownership_rules.unwrap_or_default(),
    }))
}

pub(super) async fn set_ownership(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<OwnershipJson>,
) -> Result<Json<OwnershipJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    ownership::set_rules(&state.store, &account, project_id, &body.rules)
        .await
        .map_err(|error| match error {
            ownership::SetError::Store(e) => e.into(),
            other => ApiError::bad_request(format!("rules: {other}")),
        })?;
    Ok(Json(OwnershipJson {
        rules: body.rules.trim().to_owned(),
    }))
}

pub(super) async fn apply_ownership(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<AppliedJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let assigned = ownership::apply_to_existing(&state.store, &account, project_id).await?;
    Ok(Json(AppliedJson { assigned }))
}

pub(super) async fn set_ticket_template(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<TicketTemplateJson>,
) -> Result<Json<TicketTemplateJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    tickets::set_template(&state.store, &account, project_id, body.template.as_deref())
        .await
        .map_err(|error| match error {
            tickets::TicketError::Store(e) => e.into(),
            other => ApiError::bad_request(format!("template: {other}")),
        })?;
    Ok(Json(TicketTemplateJson {
        template: body
            .template
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    }))
}

pub(super) async fn set_source_links(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<TicketTemplateJson>,
) -> Result<Json<TicketTemplateJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    tickets::set_source_template(&state.store, &account, project_id, body.template.as_deref())
        .await
        .map_err(|error| match error {
            tickets::TicketError::Store(e) => e.into(),
            other => ApiError::bad_request(format!("template: {other}")),
        })?;
    Ok(Json(TicketTemplateJson {
        template: body
            .template
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    }))
}
