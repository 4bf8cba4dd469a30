//! A project's webhooks (project admins), added and removed through
//! [`webhooks`](crate::webhooks) like the settings page and the command line do.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::{RemovedJson, WebhookJson, WebhooksJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks;

#[derive(Deserialize)]
pub(super) struct WebhookBody {
    url: String,
    secret: Option<String>,
}

pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<WebhooksJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let hooks = state.store.webhooks(project_id).await?;
    Ok(Json(WebhooksJson {
        webhooks: hooks.into_iter().map(WebhookJson::listed).collect(),
    }))
}

pub(super) async fn add_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<WebhookBody>,
) -> Result<Json<WebhookJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let hook = webhooks::add(
        &state.store,
        &state.config,
        &account,
        project_id,
        &body.url,
        body.secret,
    )
    .await
    .map_err(|error| match error {
        webhooks::WebhookError::Target(e) => ApiError::bad_request(e.to_string()),
        webhooks::WebhookError::Store(e) => e.into(),
    })?;
    // The secret is shown once, here.
    Ok(Json(WebhookJson {
        id: hook.id,
        url: hook.url,
        secret: Some(hook.secret),
    }))
}

pub(super) async fn remove_webhook(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, webhook_id)): ApiPath<(i64, i64)>,
) -> Result<Json<RemovedJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    if !webhooks::remove(&state.store, &account, project_id, webhook_id).await? {
        return Err(ApiError::not_found(format!(
            "webhook {webhook_id} not found"
        )));
    }
    Ok(Json(RemovedJson {
        removed: webhook_id,
    }))
}
