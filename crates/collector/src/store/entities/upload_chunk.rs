//! A chunk `sentry-cli` uploaded, by its SHA-1, until a file is assembled from it.

use sea_orm::entity::prelude::*;

/// A row of `upload_chunk`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload_chunk")]
pub struct Model {
    /// The SHA-1 of its bytes, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub checksum: String,
    /// The bytes (uncompressed).
    pub data: Vec<u8>,
    /// When it arrived (ms).
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
