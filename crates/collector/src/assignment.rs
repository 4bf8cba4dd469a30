//! Assigning issues to a member of their project, one way from the issue page, the
//! list's bulk action and the API: the assignee must be a member, the change is in the
//! audit log, and the assignee gets an email when someone else assigned them.

use crate::audit::{self, Actor};
use crate::store::entities::{account, issue};
use crate::store::{AuditAction, Channel, NotificationKind, Store, StoreError};

/// Why an assignment was refused.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    /// The address is not a member of the project.
    #[error("{0} is not a member of this project (add them on the settings page first)")]
    NotMember(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The member of `project_id` with `email`.
async fn member(
    store: &Store,
    project_id: i64,
    email: &str,
) -> Result<account::Model, AssignError> {
    let wanted = email.trim().to_lowercase();
    store
        .members(project_id)
        .await?
        .into_iter()
        .map(|(account, _)| account)
        .find(|account| account.email.to_lowercase() == wanted)
        .ok_or_else(|| AssignError::NotMember(email.trim().to_owned()))
}

/// Assigns issue `issue_id` of `project_id` to the member with `email` (none:
/// unassigns); records it and, when `actor` is someone else, emails the assignee.
pub async fn assign<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    issue_id: i64,
    email: Option<&str>,
) -> Result<issue::Model, AssignError> {
    let actor = actor.into();
    let assignee = match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => Some(member(store, project_id, email).await?),
        None => None,
    };
    let issue = store
        .assign_issue(issue_id, assignee.as_ref().map(|a| a.id), None)
        .await?;
    let whom = assignee.as_ref().map_or("nobody", |a| a.email.as_str());
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::IssueAssigned,
        format!("issue {issue_id}: {whom}"),
    )
    .await?;
    let by_someone_else = match actor {
        Actor::Account(by) => assignee.as_ref().is_some_and(|a| a.id != by.id),
        Actor::Cli | Actor::Collector => assignee.is_some(),
    };
    if let (true, Some(assignee)) = (by_someone_else, &assignee) {
        let action = serde_json::json!({"kind": "email", "to": [assignee.email]}).to_string();
        store
            .queue_issue_actions(
                project_id,
                issue_id,
                None,
                NotificationKind::Assigned,
                vec![(Channel::Email, action)],
            )
            .await?;
    }
    Ok(issue)
}

/// Assigns each of `ids` (issues of `project_id`) as [`assign`] does; returns the ids
/// assigned.
pub async fn assign_many<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    ids: &[i64],
    email: Option<&str>,
) -> Result<Vec<i64>, AssignError> {
    let actor = actor.into();
    if let Some(email) = email.filter(|e| !e.trim().is_empty()) {
        member(store, project_id, email).await?;
    }
    let mut done = Vec::new();
    for &issue_id in ids {
        match store.issue(issue_id).await? {
            Some(issue) if issue.project_id == project_id => {
                assign(store, actor, project_id, issue_id, email).await?;
                done.push(issue_id);
            }
            _ => {}
        }
    }
    Ok(done)
}
