//! Alert rules: a project's rules as stored (their JSON columns are `alerts::rule`'s to
//! read), and when each last alerted about each issue.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, NotSet, QueryFilter, QueryOrder,
    Set,
};

use super::entities::alert_rule;
use super::{Store, StoreError, now_ms};

/// A rule's stored fields, as the caller checked them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    /// Name.
    pub name: String,
    /// `any` or `all`.
    pub match_mode: String,
    /// Conditions (JSON).
    pub conditions: String,
    /// Filters (JSON).
    pub filters: String,
    /// Actions (JSON).
    pub actions: String,
    /// Throttle in minutes; none: the collector's default.
    pub throttle_minutes: Option<i64>,
}

impl Store {
    /// A project's alert rules, oldest first.
    pub async fn alert_rules(&self, project_id: i64) -> Result<Vec<alert_rule::Model>, StoreError> {
        Ok(alert_rule::Entity::find()
            .filter(alert_rule::Column::ProjectId.eq(project_id))
            .order_by_asc(alert_rule::Column::Id)
            .all(self.db())
            .await?)
    }

    /// One rule.
    pub async fn alert_rule(&self, id: i64) -> Result<alert_rule::Model, StoreError> {
        alert_rule::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("alert rule {id}")))
    }

    /// Adds a rule to `project_id`.
    pub async fn add_alert_rule(
        &self,
        project_id: i64,
        row: RuleRow,
    ) -> Result<alert_rule::Model, StoreError> {
        let now = now_ms();
        self.write(async |txn| {
            Ok(alert_rule::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                name: Set(row.name),
                match_mode: Set(row.match_mode),
                conditions: Set(row.conditions),
                filters: Set(row.filters),
                actions: Set(row.actions),
                throttle_minutes: Set(row.throttle_minutes),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?)
        })
        .await
    }

    /// Replaces rule `id`'s fields.
    pub async fn change_alert_rule(
        &self,
        id: i64,
        row: RuleRow,
    ) -> Result<alert_rule::Model, StoreError> {
        let rule = self.alert_rule(id).await?;
        self.write(async |txn| {
            let mut rule = rule.into_active_model();
            rule.name = Set(row.name);
            rule.match_mode = Set(row.match_mode);
            rule.conditions = Set(row.conditions);
            rule.filters = Set(row.filters);
            rule.actions = Set(row.actions);
            rule.throttle_minutes = Set(row.throttle_minutes);
            rule.updated_at = Set(now_ms());
            Ok(rule.update(txn).await?)
        })
        .await
    }

    /// Removes rule `id`; false when there was none.
    pub async fn remove_alert_rule(&self, id: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            Ok(alert_rule::Entity::delete_by_id(id)
                .exec(txn)
                .await?
                .rows_affected
                > 0)
        })
        .await
    }
}
