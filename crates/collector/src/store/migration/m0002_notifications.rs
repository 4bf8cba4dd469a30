//! Notifications: a project's spike setting and email recipients, webhooks, and the
//! outbox of notifications waiting to be sent (each sent once, retried).

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, id, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    SpikeThreshold,
    SpikeWindowMinutes,
}

#[derive(DeriveIden)]
enum Issue {
    Table,
    LastNotifiedAt,
}

#[derive(DeriveIden)]
enum Recipient {
    Table,
    Id,
    ProjectId,
    Email,
}

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Id,
    ProjectId,
    Url,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    ProjectId,
    IssueId,
    EventRowId,
    Kind,
    Channel,
    WebhookId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ADD COLUMN per statement.
        for column in [
            ColumnDef::new(Project::SpikeThreshold)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Project::SpikeWindowMinutes)
                .big_integer()
                .not_null()
                .default(10)
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Project::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Issue::Table)
                .add_column(big_null(Issue::LastNotifiedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Recipient::Table)
                .if_not_exists()
                .col(id(Recipient::Id))
                .col(big(Recipient::ProjectId))
                .col(text(Recipient::Email))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recipient_project_email")
                .table(Recipient::Table)
                .col(Recipient::ProjectId)
                .col(Recipient::Email)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Webhook::Table)
                .if_not_exists()
                .col(id(Webhook::Id))
                .col(big(Webhook::ProjectId))
                .col(text(Webhook::Url))
                .col(text(Webhook::Secret))
                .col(big(Webhook::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .if_not_exists()
                .col(id(Outbox::Id))
                .col(big(Outbox::ProjectId))
                .col(big(Outbox::IssueId))
                .col(big(Outbox::EventRowId))
                .col(text(Outbox::Kind))
                .col(text(Outbox::Channel))
                .col(big_null(Outbox::WebhookId))
                .col(text(Outbox::Status))
                .col(big(Outbox::Attempts))
                .col(big(Outbox::NextAttemptAt))
                .col(big_null(Outbox::ClaimedUntil))
                .col(text_null(Outbox::LastError))
                .col(big(Outbox::CreatedAt))
                .col(big_null(Outbox::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_status_next")
                .table(Outbox::Table)
                .col(Outbox::Status)
                .col(Outbox::NextAttemptAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
