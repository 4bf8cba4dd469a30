//! Who may see and do what: the one place the web UI and the API ask. An instance admin
//! may do everything in every project; anyone else what their role in a project allows
//! ([`Need`]). Something one may not see answers "not found", as if it did not exist;
//! something one may see but not change answers "forbidden".

use crate::store::entities::{account, issue, project};
use crate::store::{ProjectRole, Store, StoreError};

/// What a request needs to do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// See issues, events and affected users.
    View,
    /// Resolve, ignore and reopen issues.
    Triage,
    /// Change settings, keys, recipients, webhooks, retention, limits and members, and
    /// see the notifications' delivery log.
    Manage,
}

impl Need {
    /// Whether `role` allows it.
    pub fn allowed_to(self, role: ProjectRole) -> bool {
        match self {
            Need::View | Need::Triage => true,
            Need::Manage => role == ProjectRole::Admin,
        }
    }
}

/// Why access was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// It does not exist, or the account may not see it (the same answer for both).
    #[error("{0} not found")]
    NotFound(String),
    /// The account sees it but its role does not allow this.
    #[error("only a project admin may do this in {0}")]
    Forbidden(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The projects `account` may see, by id.
pub async fn visible_projects(
    store: &Store,
    account: &account::Model,
) -> Result<Vec<project::Model>, StoreError> {
    if account.is_admin {
        store.projects().await
    } else {
        store.member_projects(account.id).await
    }
}

/// Project `project_id`, if `account` may see it.
pub async fn visible_project(
    store: &Store,
    account: &account::Model,
    project_id: i64,
) -> Result<project::Model, AccessError> {
    project_for(store, account, project_id, Need::View).await
}

/// Project `project_id`, if `account` may do what `need` says there.
pub async fn project_for(
    store: &Store,
    account: &account::Model,
    project_id: i64,
    need: Need,
) -> Result<project::Model, AccessError> {
    let not_found = || AccessError::NotFound(format!("project {project_id}"));
    if !account.is_admin {
        let role = store
            .member_role(project_id, account.id)
            .await?
            .ok_or_else(not_found)?;
        if !need.allowed_to(role) {
            // Seen, so its name is no secret to this account.
            let name = store
                .project(project_id)
                .await?
                .map_or_else(|| format!("project {project_id}"), |p| p.name);
            return Err(AccessError::Forbidden(name));
        }
    }
    store.project(project_id).await?.ok_or_else(not_found)
}

/// Whether `account` may do what `need` says in project `project_id` (to show or hide
/// links; the handler behind the link asks [`project_for`] all the same).
pub async fn may(
    store: &Store,
    account: &account::Model,
    project_id: i64,
    need: Need,
) -> Result<bool, StoreError> {
    if account.is_admin {
        return Ok(true);
    }
    let role = store.member_role(project_id, account.id).await?;
    Ok(role.is_some_and(|role| need.allowed_to(role)))
}

/// Issue `issue_id` and its project, if `account` may see them.
pub async fn visible_issue(
    store: &Store,
    account: &account::Model,
    issue_id: i64,
) -> Result<(project::Model, issue::Model), AccessError> {
    let issue = store
        .issue(issue_id)
        .await?
        .ok_or_else(|| AccessError::NotFound(format!("issue {issue_id}")))?;
    let project = visible_project(store, account, issue.project_id)
        .await
        .map_err(|error| match error {
            AccessError::NotFound(_) => AccessError::NotFound(format!("issue {issue_id}")),
            other => other,
        })?;
    Ok((project, issue))
}

/// Issue `issue_id` of project `project_id`, if `account` may see it (pages address
/// issues under their project).
pub async fn visible_issue_in(
    store: &Store,
    account: &account::Model,
    project_id: i64,
    issue_id: i64,
) -> Result<(project::Model, issue::Model), AccessError> {
    let (project, issue) = visible_issue(store, account, issue_id).await?;
    if project.id != project_id {
        return Err(AccessError::NotFound(format!("issue {issue_id}")));
    }
    Ok((project, issue))
}

/// Monitor `monitor_id` and its project, if `account` may do what `need` says there
/// (another project's monitor is not found, as if it did not exist).
pub async fn monitor_for(
    store: &Store,
    account: &account::Model,
    monitor_id: i64,
    need: Need,
) -> Result<(project::Model, crate::store::entities::monitor::Model), AccessError> {
    let not_found = || AccessError::NotFound(format!("monitor {monitor_id}"));
    let monitor = match store.monitor(monitor_id).await {
        Ok(monitor) => monitor,
        Err(StoreError::NotFound(_)) => return Err(not_found()),
        Err(other) => return Err(other.into()),
    };
    let project = project_for(store, account, monitor.project_id, need)
        .await
        .map_err(|error| match error {
            AccessError::NotFound(_) => not_found(),
            other => other,
        })?;
    Ok((project, monitor))
}
