//! Who changed what: every change to a project's settings, keys, members, webhooks,
//! recipients or issue statuses is recorded with who made it (an account's email, or
//! `cli` for the command line), for the project's admins to read (UI and API). The
//! domain functions that make a change record it; edges only say who acts.

use std::fmt::Display;

use crate::store::entities::account;
use crate::store::{AuditAction, IssueStatus, Store, StoreError};

/// The actor recorded for changes made with the command line.
pub const CLI_ACTOR: &str = "cli";

/// Who makes a change: a signed-in account (the UI, the API) or the command line.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// An account, by the UI or the API.
    Account(&'a account::Model),
    /// The command line, run by whoever can open the database.
    Cli,
    /// The collector itself (a follow-up sent because the fix went live).
    Collector,
}

impl Actor<'_> {
    /// The name the audit log shows.
    pub fn name(&self) -> &str {
        match self {
            Actor::Account(account) => &account.email,
            Actor::Cli => CLI_ACTOR,
            Actor::Collector => "collector",
        }
    }
}

impl<'a> From<&'a account::Model> for Actor<'a> {
    fn from(account: &'a account::Model) -> Self {
        Actor::Account(account)
    }
}

/// Records that `actor` did `action` to `target` in `project_id`.
pub async fn record<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    action: AuditAction,
    target: impl Display,
) -> Result<(), StoreError> {
    store
        .record_audit(project_id, actor.into().name(), action, &target.to_string())
        .await
}

/// Records that `actor` set issue `issue_id`'s status to `status`, as
/// `issue 12: resolved` (the issue page reads its history back from these).
pub async fn record_status<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
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
