//! Ownership rules: who owns an issue, in Sentry's syntax, one rule per line, the
//! first that matches wins:
//!
//! ```text
//! # comments and blank lines are skipped
//! path:src/billing/* jane@example.com
//! module:shop::checkout::* omar@example.com
//! url:*/checkout* jane@example.com
//! tag:tenant=acme omar@example.com
//! ```
//!
//! `path:` matches the files of the event's in-app frames, `module:` their modules,
//! `url:` the request's URL, `tag:key=value` a tag (globs: `*` matches anything, `/`
//! included). The owner is a member of the project, by email. Ingest applies the rules
//! to each new issue (the store's batch), and [`apply_to_existing`] to open issues
//! nobody is assigned to; the issue keeps the rule that matched.

pub mod rules;

use crate::audit::{self, Actor};
use crate::store::{AuditAction, Store, StoreError};
pub use rules::{Ownership, OwnershipError, Rule, Subject};

/// Why rules were not saved.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// The text does not read.
    #[error(transparent)]
    Rules(#[from] OwnershipError),
    /// An owner is not a member.
    #[error("line {line}: {owner} is not a member of the project (add them first)")]
    NotMember {
        /// 1-based.
        line: usize,
        /// The email.
        owner: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sets `project_id`'s rules to `text` after checking each line and that every owner
/// is a member; records the change.
pub async fn set_rules<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    text: &str,
) -> Result<(), SetError> {
    Ownership::parse(text)?;
    let members: Vec<String> = store
        .members(project_id)
        .await?
        .into_iter()
        .map(|(account, _)| account.email.to_lowercase())
        .collect();
    for (index, line) in text.lines().enumerate() {
        let Ok(parsed) = Ownership::parse(line) else {
            continue;
        };
        if let Some(rule) = parsed.rules.first()
            && !members.contains(&rule.owner)
        {
            return Err(SetError::NotMember {
                line: index + 1,
                owner: rule.owner.clone(),
            });
        }
    }
    let text = text.trim();
    store
        .set_ownership_rules(project_id, (!text.is_empty()).then_some(text))
        .await?;
    let count = Ownership::parse(text).map_or(0, |o| o.rules.len());
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::OwnershipChanged,
        format!("{count} ownership rules"),
    )
    .await?;
    Ok(())
}

/// Applies the rules to `project_id`'s open issues nobody is assigned to (the 1,000
/// seen last), by each one's latest event; returns how many were assigned.
pub async fn apply_to_existing<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
) -> Result<usize, StoreError> {
    let actor = actor.into();
    let project = store
        .project(project_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
    let Ok(ownership) = Ownership::parse(project.ownership_rules.as_deref().unwrap_or_default())
    else {
        return Ok(0);
    };
    if ownership.rules.is_empty() {
        return Ok(0);
    }
    let mut assigned = 0;
    for issue in store.unassigned_open_issues(project_id, 1000).await? {
        let Some(latest) = store.issue_events(issue.id, 0, 1).await?.pop() else {
            continue;
        };
        let Some(rule) = ownership.owner_of(&Subject::of(&latest.event)) else {
            continue;
        };
        let Ok(account) = store.account_by_email(&rule.owner).await else {
            continue;
        };
        store
            .assign_issue(issue.id, Some(account.id), Some(&rule.text))
            .await?;
        audit::record(
            store,
            actor,
            project_id,
            AuditAction::IssueAssigned,
            format!("issue {}: {} (rule {})", issue.id, rule.owner, rule.text),
        )
        .await?;
        assigned += 1;
    }
    Ok(assigned)
}
