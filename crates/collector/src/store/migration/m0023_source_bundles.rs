//! Source bundles: a debug id may now have two files, its ELF debug file and the
//! bundle of its sources (`--include-sources`), told apart by `kind`; rows from before
//! are ELF files.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DebugFile {
    Table,
    ProjectId,
    DebugId,
    Kind,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(DebugFile::Table)
                .add_column(
                    ColumnDef::new(DebugFile::Kind)
                        .string()
                        .not_null()
                        .default("elf"),
                )
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("debug_file_project_debug_id")
                .table(DebugFile::Table)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("debug_file_project_debug_id_kind")
                .table(DebugFile::Table)
                .col(DebugFile::ProjectId)
                .col(DebugFile::DebugId)
                .col(DebugFile::Kind)
                .unique()
                .to_owned(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, Statement};
    use sea_orm_migration::MigratorTrait;

    use super::super::Migrator;

    /// A debug file stored before this migration is an ELF file after it, and its debug
    /// id may now have a source bundle too.
    #[tokio::test]
    async fn earlier_debug_files_are_elf_files() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let before = Migrator::migrations().len() as u32 - 1;
        Migrator::up(&db, Some(before)).await.unwrap();
        let run = |sql: &str| db.execute(Statement::from_string(db.get_database_backend(), sql));
        // The row alone matters here, not its project.
        run("PRAGMA foreign_keys = OFF").await.unwrap();
        run(
            "INSERT INTO debug_file (project_id, debug_id, name, size, has_sources, created_at) \
             VALUES (1, 'b7c1', 'app.debug', 10, false, 0)",
        )
        .await
        .unwrap();
        Migrator::up(&db, None).await.unwrap();
        let kind = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                "SELECT kind FROM debug_file WHERE debug_id = 'b7c1'",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kind.try_get::<String>("", "kind").unwrap(), "elf");
        run("INSERT INTO debug_file (project_id, debug_id, name, size, has_sources, created_at, kind) \
             VALUES (1, 'b7c1', 'app.src.zip', 10, false, 0, 'sources')")
            .await
            .unwrap();
        let twice = run("INSERT INTO debug_file (project_id, debug_id, name, size, has_sources, created_at, kind) \
             VALUES (1, 'b7c1', 'again.src.zip', 10, false, 0, 'sources')")
            .await;
        assert!(twice.is_err(), "one file of a kind per debug id");
    }
}
