//! The environments and releases a project's events came with, for the issue list's
//! selects; written at ingest.

use sea_orm::entity::prelude::*;

/// A row of `filter_value`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "filter_value")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Environment or release.
    pub kind: super::FilterKind,
    /// The value.
    pub value: String,
    /// When an event last came with it (ms).
    pub last_seen: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
