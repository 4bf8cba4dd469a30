//! A project's alert rules: when an event alerts whom. The conditions, filters and
//! actions are JSON that `alerts::rule` reads and checks.

use sea_orm::entity::prelude::*;

/// The conditions of the rule a new project starts with (`alerts::rule::RuleSpec::
/// default_rule`, which a test keeps equal): a new issue or a regression...
pub const DEFAULT_CONDITIONS: &str = r#"[{"kind":"first_seen"},{"kind":"regression"}]"#;
/// ...to the project's recipients and its webhooks.
pub const DEFAULT_ACTIONS: &str = r#"[{"kind":"email","to":"recipients"},{"kind":"webhook"}]"#;

/// A row of `alert_rule`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_rule")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// What the team calls it.
    pub name: String,
    /// `any` or `all` of the conditions.
    pub match_mode: String,
    /// The conditions, a JSON array.
    pub conditions: String,
    /// The filters, a JSON array (all must hold).
    pub filters: String,
    /// The actions, a JSON array.
    pub actions: String,
    /// At most one alert per issue in this many minutes; none: the collector's default.
    pub throttle_minutes: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
