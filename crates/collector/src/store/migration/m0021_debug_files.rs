//! Debug files: a project's ELF debug files (split debug info or unstripped binaries),
//! one per debug id, kept in the database in chunks (so several collectors share them
//! and a backup holds them), for symbolicating the frames of stripped binaries; and the
//! chunks `sentry-cli` uploads them in.

use sea_orm_migration::prelude::*;

use super::columns::{big, id, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DebugFile {
    Table,
    Id,
    ProjectId,
    DebugId,
    CodeId,
    Name,
    Size,
    HasSources,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UploadChunk {
    Table,
    Checksum,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DebugFileChunk {
    Table,
    FileId,
    Seq,
    Data,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DebugFile::Table)
                .col(id(DebugFile::Id))
                .col(big(DebugFile::ProjectId))
                .col(text(DebugFile::DebugId))
                .col(text_null(DebugFile::CodeId))
                .col(text(DebugFile::Name))
                .col(big(DebugFile::Size))
                .col(
                    ColumnDef::new(DebugFile::HasSources)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(big(DebugFile::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(DebugFile::Table, DebugFile::ProjectId)
                        .to(Project::Table, Project::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("debug_file_project_debug_id")
                .table(DebugFile::Table)
                .col(DebugFile::ProjectId)
                .col(DebugFile::DebugId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DebugFileChunk::Table)
                .col(big(DebugFileChunk::FileId))
                .col(big(DebugFileChunk::Seq))
                .col(ColumnDef::new(DebugFileChunk::Data).blob().not_null())
                .primary_key(
                    Index::create()
                        .col(DebugFileChunk::FileId)
                        .col(DebugFileChunk::Seq),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DebugFileChunk::Table, DebugFileChunk::FileId)
                        .to(DebugFile::Table, DebugFile::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Chunks `sentry-cli` uploads before it asks for a file to be assembled from
        // them, by their SHA-1; kept an hour.
        m.create_table(
            Table::create()
                .table(UploadChunk::Table)
                .col(text(UploadChunk::Checksum).primary_key())
                .col(ColumnDef::new(UploadChunk::Data).blob().not_null())
                .col(big(UploadChunk::CreatedAt))
                .to_owned(),
        )
        .await
    }
}
