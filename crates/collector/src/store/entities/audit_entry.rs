//! Who changed what in a project, and when.

use sea_orm::entity::prelude::*;

/// A row of `audit_entry`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project changed.
    pub project_id: i64,
    /// Who changed it (their email at the time; `cli` from the command line).
    pub actor: String,
    /// What was done.
    pub action: super::AuditAction,
    /// What it was done to: a key id, an email, a URL, an issue id, a setting.
    pub target: String,
    /// When.
    pub at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
