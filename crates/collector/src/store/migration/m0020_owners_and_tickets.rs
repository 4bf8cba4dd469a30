//! Owners and tickets: an issue's assignee (an account) and the ownership rule that
//! chose them, the ticket the team filed for it; a project's ownership rules (text,
//! one per line) and its "new ticket" URL template.

use sea_orm_migration::prelude::*;

use super::columns::{big_null, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Issue {
    Table,
    AssigneeId,
    OwnerRule,
    TicketUrl,
}

#[derive(DeriveIden)]
enum Project {
    Table,
    OwnershipRules,
    TicketTemplate,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ADD COLUMN per statement.
        for column in [
            big_null(Issue::AssigneeId),
            text_null(Issue::OwnerRule),
            text_null(Issue::TicketUrl),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Issue::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            text_null(Project::OwnershipRules),
            text_null(Project::TicketTemplate),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Project::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("issue_assignee")
                .table(Issue::Table)
                .col(Issue::AssigneeId)
                .to_owned(),
        )
        .await
    }
}
