//! An account's one-time recovery codes, for signing in without the authenticator app;
//! only their SHA-256 is stored.

use sea_orm::entity::prelude::*;

/// A row of `recovery_code`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recovery_code")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The account.
    pub account_id: i64,
    /// Hex SHA-256 of the code.
    pub code_hash: String,
    /// When it was used; unused while `None`.
    pub used_at: Option<i64>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
