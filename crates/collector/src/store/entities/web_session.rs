//! Signed-in browser sessions; only the token's SHA-256 is stored.

use sea_orm::entity::prelude::*;

/// A row of `web_session`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "web_session")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Hex SHA-256 of the cookie's token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The signed-in account.
    pub account_id: i64,
    /// The token forms must carry.
    pub csrf_token: String,
    /// Creation time.
    pub created_at: i64,
    /// Expiry time.
    pub expires_at: i64,
    /// The password was right and the second factor is still to come: such a session
    /// opens only the page that asks for the code.
    pub second_factor_pending: bool,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
