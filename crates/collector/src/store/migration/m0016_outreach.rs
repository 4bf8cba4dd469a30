//! Writing to the users a crash hit: project settings, messages (once per user and
//! issue), the do-not-contact list, follow-ups waiting for a fix to go live, and outbox
//! rows that carry one message.

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, id, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    OutreachEnabled,
    OutreachFrom,
    OutreachReplyTo,
    OutreachWeeklyLimit,
    OutreachSubject,
    OutreachTemplate,
    OutreachFixedSubject,
    OutreachFixedTemplate,
}

#[derive(DeriveIden)]
enum OutreachMessage {
    Table,
    Id,
    ProjectId,
    IssueId,
    UserKey,
    Email,
    Name,
    Kind,
    Subject,
    Body,
    SentBy,
    UnsubscribeToken,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DoNotContact {
    Table,
    Id,
    ProjectId,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutreachFix {
    Table,
    Id,
    ProjectId,
    IssueId,
    AfterRelease,
    Environment,
    RequestedBy,
    RequestedAt,
    LiveAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    OutreachId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Project::OutreachEnabled)
                .boolean()
                .not_null()
                .default(true)
                .to_owned(),
            text_null(Project::OutreachFrom),
            text_null(Project::OutreachReplyTo),
            ColumnDef::new(Project::OutreachWeeklyLimit)
                .big_integer()
                .not_null()
                .default(2)
                .to_owned(),
            text_null(Project::OutreachSubject),
            text_null(Project::OutreachTemplate),
            text_null(Project::OutreachFixedSubject),
            text_null(Project::OutreachFixedTemplate),
        ];
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(Project::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(OutreachMessage::Table)
                .col(id(OutreachMessage::Id))
                .col(big(OutreachMessage::ProjectId))
                .col(big(OutreachMessage::IssueId))
                .col(text(OutreachMessage::UserKey))
                .col(text(OutreachMessage::Email))
                .col(text_null(OutreachMessage::Name))
                .col(text(OutreachMessage::Kind))
                .col(text(OutreachMessage::Subject))
                .col(text(OutreachMessage::Body))
                .col(text(OutreachMessage::SentBy))
                .col(text(OutreachMessage::UnsubscribeToken))
                .col(big(OutreachMessage::CreatedAt))
                .to_owned(),
        )
        .await?;
        // Once per user and issue, however many collectors are asked at once.
        m.create_index(
            Index::create()
                .name("outreach_message_issue_user")
                .table(OutreachMessage::Table)
                .col(OutreachMessage::IssueId)
                .col(OutreachMessage::UserKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outreach_message_project_email")
                .table(OutreachMessage::Table)
                .col(OutreachMessage::ProjectId)
                .col(OutreachMessage::Email)
                .col(OutreachMessage::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outreach_message_unsubscribe")
                .table(OutreachMessage::Table)
                .col(OutreachMessage::UnsubscribeToken)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DoNotContact::Table)
                .col(id(DoNotContact::Id))
                .col(big(DoNotContact::ProjectId))
                .col(text(DoNotContact::Email))
                .col(big(DoNotContact::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("do_not_contact_project_email")
                .table(DoNotContact::Table)
                .col(DoNotContact::ProjectId)
                .col(DoNotContact::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OutreachFix::Table)
                .col(id(OutreachFix::Id))
                .col(big(OutreachFix::ProjectId))
                .col(big(OutreachFix::IssueId))
                .col(text_null(OutreachFix::AfterRelease))
                .col(text_null(OutreachFix::Environment))
                .col(text(OutreachFix::RequestedBy))
                .col(big(OutreachFix::RequestedAt))
                .col(big_null(OutreachFix::LiveAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outreach_fix_issue")
                .table(OutreachFix::Table)
                .col(OutreachFix::IssueId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(big_null(Outbox::OutreachId))
                .to_owned(),
        )
        .await
    }
}
