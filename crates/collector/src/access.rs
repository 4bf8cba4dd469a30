//! Who may see and do what: the one place the web UI and the API ask. An instance admin
//! sees every project; anyone else the projects they are a member of. Something one may
//! not see answers "not found", as if it did not exist.

use crate::store::entities::{account, issue, project};
use crate::store::{Store, StoreError};

/// Why access was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// It does not exist, or the account may not see it (the same answer for both).
    #[error("{0} not found")]
    NotFound(String),
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
    let not_found = || AccessError::NotFound(format!("project {project_id}"));
    if !account.is_admin && !store.is_member(project_id, account.id).await? {
        return Err(not_found());
    }
    store.project(project_id).await?.ok_or_else(not_found)
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
