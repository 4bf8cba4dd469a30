//! Indexes for the issue list: its environment and release filters (does an issue have
//! events in this environment?) and its sort orders.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Event {
    Table,
    IssueId,
    Environment,
    Release,
}

#[derive(DeriveIden)]
enum Issue {
    Table,
    ProjectId,
    Status,
    FirstSeen,
    EventCount,
    UserCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [
            ("event_issue_environment", Event::Environment),
            ("event_issue_release", Event::Release),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Event::Table)
                    .col(Event::IssueId)
                    .col(column)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        for (name, column) in [
            ("issue_project_status_first_seen", Issue::FirstSeen),
            ("issue_project_status_events", Issue::EventCount),
            ("issue_project_status_users", Issue::UserCount),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Issue::Table)
                    .col(Issue::ProjectId)
                    .col(Issue::Status)
                    .col(column)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
