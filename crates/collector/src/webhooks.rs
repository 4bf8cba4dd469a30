//! A project's webhooks, added and removed one way from the settings page and the API:
//! the target checked against the outbound policy (no private addresses unless the
//! instance allows them), a secret made when none is given, the change in the audit log.

use crate::audit::{self, Actor};
use crate::config::Config;
use crate::outbound::{self, OutboundError};
use crate::store::entities::webhook;
use crate::store::{AuditAction, Store, StoreError, random_hex};

/// Why a webhook was not added.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The URL may not be a target.
    #[error(transparent)]
    Target(#[from] OutboundError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds a webhook to `url` in `project_id` for `actor`; the secret is `secret` or a new
/// random one (returned in the model, for showing once).
pub async fn add<'a>(
    store: &Store,
    config: &Config,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    url: &str,
    secret: Option<String>,
) -> Result<webhook::Model, WebhookError> {
    outbound::check_target(url, config.target_policy()).await?;
    let secret = secret
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| random_hex(1));
    let hook = store.add_webhook(project_id, url, &secret).await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::WebhookAdded,
        &hook.url,
    )
    .await?;
    Ok(hook)
}

/// Removes webhook `webhook_id` of `project_id`; false when there is no such webhook.
pub async fn remove<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    webhook_id: i64,
) -> Result<bool, StoreError> {
    if !store.remove_webhook(project_id, webhook_id).await? {
        return Ok(false);
    }
    let target = format!("webhook {webhook_id}");
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::WebhookRemoved,
        target,
    )
    .await?;
    Ok(true)
}
