//! Indexes for the deliveries shown on the settings page (a project's latest) and the
//! issue page (an issue's).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    ProjectId,
    IssueId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("outbox_project_id")
                .table(Outbox::Table)
                .col(Outbox::ProjectId)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_issue_id")
                .table(Outbox::Table)
                .col(Outbox::IssueId)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await
    }
}
