//! Two-factor sign-in: an account's TOTP secret (pending until confirmed with a code),
//! the last time step a code was accepted for (a code works once), its recovery codes
//! (hashed, each used once), and sessions waiting for the second factor.

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, id, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    TotpSecret,
    TotpEnabledAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum RecoveryCode {
    Table,
    Id,
    AccountId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum WebSession {
    Table,
    SecondFactorPending,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ADD COLUMN per statement.
        for column in [
            text_null(Account::TotpSecret),
            big_null(Account::TotpEnabledAt),
            big_null(Account::TotpLastStep),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(WebSession::Table)
                .add_column(
                    ColumnDef::new(WebSession::SecondFactorPending)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RecoveryCode::Table)
                .col(id(RecoveryCode::Id))
                .col(big(RecoveryCode::AccountId))
                .col(text(RecoveryCode::CodeHash))
                .col(big_null(RecoveryCode::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCode::Table, RecoveryCode::AccountId)
                        .to(Account::Table, Account::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recovery_code_account")
                .table(RecoveryCode::Table)
                .col(RecoveryCode::AccountId)
                .to_owned(),
        )
        .await
    }
}
