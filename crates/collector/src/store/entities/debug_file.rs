//! A project's debug files, one of each kind per debug id; their bytes are in `debug_file_chunk`.

use sea_orm::entity::prelude::*;

/// A row of `debug_file`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "debug_file")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// Sentry's debug id (from the GNU build id), lowercase UUID form.
    pub debug_id: String,
    /// The GNU build id, hex.
    pub code_id: Option<String>,
    /// The file's name as uploaded.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// For an ELF file: whether the source bundle of its debug id is uploaded too
    /// (kept by the store as bundles come and go).
    pub has_sources: bool,
    /// An ELF file or a source bundle.
    pub kind: super::DebugFileKind,
    /// Upload time.
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
