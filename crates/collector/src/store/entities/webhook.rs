//! URLs a project's notifications are posted to.

use sea_orm::entity::prelude::*;

/// A row of `webhook`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Where to POST.
    pub url: String,
    /// HMAC-SHA256 key for the signature header.
    pub secret: String,
    /// Creation time.
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
