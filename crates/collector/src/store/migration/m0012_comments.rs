//! Comments on issues, shown in their history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IssueComment {
    Table,
    Id,
    ProjectId,
    IssueId,
    Author,
    Body,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IssueComment::Table)
                .col(
                    ColumnDef::new(IssueComment::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(IssueComment::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueComment::IssueId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(IssueComment::Author).text().not_null())
                .col(ColumnDef::new(IssueComment::Body).text().not_null())
                .col(ColumnDef::new(IssueComment::At).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_comment_issue_id")
                .table(IssueComment::Table)
                .col(IssueComment::IssueId)
                .col(IssueComment::Id)
                .to_owned(),
        )
        .await
    }
}
