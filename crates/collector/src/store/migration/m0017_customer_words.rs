//! What customers see of a project: the name messages to them are signed with (and the
//! unsubscribe page shows), and what each page of the app is in their words ("checking
//! out"), for the messages' `{doing}`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    SenderName,
    RouteNames,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ADD COLUMN per statement.
        for column in [Project::SenderName, Project::RouteNames] {
            m.alter_table(
                Table::alter()
                    .table(Project::Table)
                    .add_column(ColumnDef::new(column).text().null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
