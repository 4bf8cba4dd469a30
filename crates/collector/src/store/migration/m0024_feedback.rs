//! Feedback from the people a crash hit: what they wrote (Sentry's `user_report` items,
//! `feedback` events, the error-page dialog, the reporter's error page), for the event
//! it names if any; found for an issue through its events, so merges carry it along.

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
enum Feedback {
    Table,
    Id,
    ProjectId,
    EventId,
    Name,
    Email,
    Message,
    Url,
    Source,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Feedback::Table)
                .col(id(Feedback::Id))
                .col(big(Feedback::ProjectId))
                .col(text_null(Feedback::EventId))
                .col(text_null(Feedback::Name))
                .col(text_null(Feedback::Email))
                .col(text(Feedback::Message))
                .col(text_null(Feedback::Url))
                .col(text(Feedback::Source))
                .col(big(Feedback::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Feedback::Table, Feedback::ProjectId)
                        .to(Project::Table, Project::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("feedback_project_created")
                .table(Feedback::Table)
                .col(Feedback::ProjectId)
                .col(Feedback::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("feedback_project_event")
                .table(Feedback::Table)
                .col(Feedback::ProjectId)
                .col(Feedback::EventId)
                .to_owned(),
        )
        .await
    }
}
