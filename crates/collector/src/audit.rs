//! Who changed what: every change to a project's settings, keys, members, webhooks,
//! recipients or issue statuses is recorded with the account that made it (`cli` for
//! the command line), for the project's admins to read (UI and API).

use std::fmt::Display;

use crate::store::entities::account;
use crate::store::{AuditAction, Store, StoreError};

/// The actor recorded for changes made with the command line.
pub const CLI_ACTOR: &str = "cli";

/// Records that `actor` did `action` to `target` in `project_id`.
pub async fn record(
    store: &Store,
    actor: &account::Model,
    project_id: i64,
    action: AuditAction,
    target: impl Display,
) -> Result<(), StoreError> {
    store
        .record_audit(project_id, &actor.email, action, &target.to_string())
        .await
}

/// Records a change made with the command line.
pub async fn record_cli(
    store: &Store,
    project_id: i64,
    action: AuditAction,
    target: impl Display,
) -> Result<(), StoreError> {
    store
        .record_audit(project_id, CLI_ACTOR, action, &target.to_string())
        .await
}
