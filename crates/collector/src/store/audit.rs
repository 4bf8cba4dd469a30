//! The audit log: appended after each change to a project's settings, keys, members,
//! webhooks, recipients or issue statuses; read by the project's admins.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{AuditAction, audit_entry};
use super::{Store, StoreError, now_ms};

/// The longest target kept (a URL, an email): the log is not a place for event data.
const MAX_TARGET_CHARS: usize = 500;

impl Store {
    /// Records that `actor` did `action` to `target` in `project_id`.
    pub async fn record_audit(
        &self,
        project_id: i64,
        actor: &str,
        action: AuditAction,
        target: &str,
    ) -> Result<(), StoreError> {
        let target: String = target.chars().take(MAX_TARGET_CHARS).collect();
        self.write(async |txn| {
            audit_entry::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                actor: Set(actor.to_owned()),
                action: Set(action),
                target: Set(target.clone()),
                at: Set(now_ms()),
            }
            .insert(txn)
            .await?;
            Ok(())
        })
        .await
    }

    /// The project's latest `limit` audit entries, newest first.
    pub async fn audit_log(
        &self,
        project_id: i64,
        limit: u64,
    ) -> Result<Vec<audit_entry::Model>, StoreError> {
        Ok(audit_entry::Entity::find()
            .filter(audit_entry::Column::ProjectId.eq(project_id))
            .order_by_desc(audit_entry::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// An issue's status changes, oldest first: its history on the issue page.
    pub async fn issue_history(
        &self,
        project_id: i64,
        issue_id: i64,
    ) -> Result<Vec<audit_entry::Model>, StoreError> {
        Ok(audit_entry::Entity::find()
            .filter(audit_entry::Column::ProjectId.eq(project_id))
            .filter(audit_entry::Column::Action.eq(AuditAction::StatusChanged))
            .filter(audit_entry::Column::Target.starts_with(format!("issue {issue_id}: ")))
            .order_by_asc(audit_entry::Column::Id)
            .limit(200)
            .all(self.db())
            .await?)
    }
}
