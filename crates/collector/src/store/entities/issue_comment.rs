//! A team member's comment on an issue.

use sea_orm::entity::prelude::*;

/// A row of `issue_comment`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_comment")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The issue.
    pub issue_id: i64,
    /// Who wrote it (their email at the time).
    pub author: String,
    /// What they wrote.
    pub body: String,
    /// When (ms).
    pub at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
