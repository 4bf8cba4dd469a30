//! When a rule last alerted about an issue: its throttle, and the PagerDuty incidents
//! to resolve when the issue is resolved.

use sea_orm::entity::prelude::*;

/// A row of `alert_fire`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_fire")]
pub struct Model {
    /// The rule.
    #[sea_orm(primary_key, auto_increment = false)]
    pub rule_id: i64,
    /// The issue.
    #[sea_orm(primary_key, auto_increment = false)]
    pub issue_id: i64,
    /// The last alert (ms).
    pub fired_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
