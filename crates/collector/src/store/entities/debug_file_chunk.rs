//! A debug file's bytes, in order, a few MiB a row.

use sea_orm::entity::prelude::*;

/// A row of `debug_file_chunk`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "debug_file_chunk")]
pub struct Model {
    /// The file.
    #[sea_orm(primary_key, auto_increment = false)]
    pub file_id: i64,
    /// Its place, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// The bytes.
    pub data: Vec<u8>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
