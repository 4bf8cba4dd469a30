//! Merging issues: a merged issue points at the issue it joined, events moved remember
//! the issue they were grouped into, and the merged issue's fingerprint is an alias, so
//! that its new events join the target too (and can be moved back on unmerge).

use sea_orm_migration::prelude::*;

use super::columns::big_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Issue {
    Table,
    MergedInto,
}

#[derive(DeriveIden)]
enum Event {
    Table,
    GroupedAs,
}

#[derive(DeriveIden)]
enum IssueAlias {
    Table,
    Id,
    ProjectId,
    Fingerprint,
    SourceIssueId,
    TargetIssueId,
    TargetFingerprint,
    EventsAdded,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Issue::Table)
                .add_column(big_null(Issue::MergedInto))
                .to_owned(),
        )
        .await?;
        // The issue page lists what was merged into it. Partial: nearly every issue's
        // is NULL, and a full index would tell the planner the column is useless.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX issue_merged_into ON issue (merged_into) \
                 WHERE merged_into IS NOT NULL",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table(Event::Table)
                .add_column(big_null(Event::GroupedAs))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(IssueAlias::Table)
                .col(
                    ColumnDef::new(IssueAlias::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(IssueAlias::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(IssueAlias::Fingerprint).text().not_null())
                .col(
                    ColumnDef::new(IssueAlias::SourceIssueId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueAlias::TargetIssueId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueAlias::TargetFingerprint)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueAlias::EventsAdded)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_alias_project_fingerprint")
                .table(IssueAlias::Table)
                .col(IssueAlias::ProjectId)
                .col(IssueAlias::Fingerprint)
                .unique()
                .to_owned(),
        )
        .await
    }
}
