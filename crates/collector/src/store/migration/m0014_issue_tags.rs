//! The tag values and messages of each issue's events, for the search box's words.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IssueTag {
    Table,
    Id,
    IssueId,
    Key,
    Value,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IssueTag::Table)
                .col(
                    ColumnDef::new(IssueTag::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(IssueTag::IssueId).big_integer().not_null())
                .col(ColumnDef::new(IssueTag::Key).text().not_null())
                .col(ColumnDef::new(IssueTag::Value).text().not_null())
                .col(ColumnDef::new(IssueTag::LastSeen).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_tag_issue_key_value")
                .table(IssueTag::Table)
                .col(IssueTag::IssueId)
                .col(IssueTag::Key)
                .col(IssueTag::Value)
                .unique()
                .to_owned(),
        )
        .await
    }
}
