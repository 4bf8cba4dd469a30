//! A project's source link template: where an in-app frame's line is in the
//! repository, at the commit the event's build names.

use sea_orm_migration::prelude::*;

use super::columns::text_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    SourceLinkTemplate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Project::Table)
                .add_column(text_null(Project::SourceLinkTemplate))
                .to_owned(),
        )
        .await
    }
}
