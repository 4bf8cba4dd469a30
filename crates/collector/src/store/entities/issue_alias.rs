//! A merged issue's fingerprint, pointing at the issue it was merged into: new events
//! with that fingerprint join the target.

use sea_orm::entity::prelude::*;

/// A row of `issue_alias`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_alias")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The merged issue's fingerprint.
    pub fingerprint: String,
    /// The merged issue.
    pub source_issue_id: i64,
    /// The issue it was merged into.
    pub target_issue_id: i64,
    /// That issue's fingerprint (what ingest groups these events under).
    pub target_fingerprint: String,
    /// Events that joined the target through this alias since the merge.
    pub events_added: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
