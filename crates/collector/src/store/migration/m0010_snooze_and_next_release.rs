//! Ignoring an issue until more events, more users or a date, and resolving it in the
//! next release.

use sea_orm_migration::prelude::*;

use super::columns::{big_null, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Issue {
    Table,
    SnoozeUntil,
    SnoozeEvents,
    SnoozeUsers,
    ResolvedInRelease,
    ResolvedRelease,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            big_null(Issue::SnoozeUntil),
            big_null(Issue::SnoozeEvents),
            big_null(Issue::SnoozeUsers),
            text_null(Issue::ResolvedInRelease),
            text_null(Issue::ResolvedRelease),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Issue::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
