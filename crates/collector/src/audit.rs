//! Who changed what: every change to a project's settings, keys, members, webhooks,
//! recipients or issue statuses is recorded with the account that made it (`cli` for
//! the command line), for the project's admins to read (UI and API).

use std::fmt::Display;

use crate::store::entities::account;
use crate::store::{AuditAction, IssueStatus, Store, StoreError};

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

/// Records that `actor` set issue `issue_id`'s status to `status`, as
/// `issue 12: resolved` (the issue page reads its history back from these).
pub async fn record_status(
    store: &Store,
    actor: &account::Model,
    project_id: i64,
    issue_id: i64,
    status: IssueStatus,
) -> Result<(), StoreError> {
    record(
        store,
        actor,
        project_id,
        AuditAction::StatusChanged,
        format!("issue {issue_id}: {status}"),
    )
    .await
}

/// The status a status change's target names (see [`record_status`]).
pub fn status_in(target: &str) -> Option<IssueStatus> {
    target.rsplit_once(": ")?.1.parse().ok()
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

/// Adds the account `email` to `project_id` with `role` (or changes its role), and
/// records it: the one way members are added, from the settings page, the users page
/// and the API.
pub async fn add_member(
    store: &Store,
    actor: &account::Model,
    project_id: i64,
    email: &str,
    role: crate::store::ProjectRole,
) -> Result<(), StoreError> {
    let member = store.account_by_email(email).await?;
    store.add_member(project_id, member.id, role).await?;
    let target = format!("{} as {role}", member.email);
    record(store, actor, project_id, AuditAction::MemberAdded, target).await
}

/// Takes the account `email` out of `project_id` and records it; whether it was a
/// member.
pub async fn remove_member(
    store: &Store,
    actor: &account::Model,
    project_id: i64,
    email: &str,
) -> Result<bool, StoreError> {
    let member = store.account_by_email(email).await?;
    if !store.remove_member(project_id, member.id).await? {
        return Ok(false);
    }
    record(
        store,
        actor,
        project_id,
        AuditAction::MemberRemoved,
        &member.email,
    )
    .await?;
    Ok(true)
}
