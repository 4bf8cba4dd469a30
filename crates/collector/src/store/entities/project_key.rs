//! A DSN key of a project.

use sea_orm::entity::prelude::*;

/// A row of `project_key`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_key")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The public key in the DSN.
    #[sea_orm(unique)]
    pub public_key: String,
    /// Disabled keys are refused.
    pub active: bool,
    /// Creation time.
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
