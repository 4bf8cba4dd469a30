//! Addresses that unsubscribed from a project's messages, never written to again.

use sea_orm::entity::prelude::*;

/// A row of `do_not_contact`: an address that unsubscribed from a project's messages.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "do_not_contact")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The address, lower-cased.
    pub email: String,
    /// When.
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
