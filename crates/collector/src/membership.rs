//! Who belongs to a project, and as what: one way to add, change and remove members,
//! from the settings page, the users page, the API and the command line, each change
//! in the audit log.

use crate::audit::{self, Actor};
use crate::store::{AuditAction, ProjectRole, Store, StoreError};

/// Adds the account `email` to `project_id` with `role` (an existing member gets the
/// new role), and records it.
pub async fn add<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    email: &str,
    role: ProjectRole,
) -> Result<(), StoreError> {
    let member = store.account_by_email(email).await?;
    store.add_member(project_id, member.id, role).await?;
    let target = format!("{} as {role}", member.email);
    audit::record(store, actor, project_id, AuditAction::MemberAdded, target).await
}

/// Takes the account `email` out of `project_id` and records it; whether it was a
/// member.
pub async fn remove<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    email: &str,
) -> Result<bool, StoreError> {
    let member = store.account_by_email(email).await?;
    if !store.remove_member(project_id, member.id).await? {
        return Ok(false);
    }
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::MemberRemoved,
        &member.email,
    )
    .await?;
    Ok(true)
}
