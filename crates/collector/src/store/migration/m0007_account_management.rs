//! Accounts can be deactivated; API tokens get a name and a last use.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Active,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Name,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Account::Table)
                .add_column(
                    ColumnDef::new(Account::Active)
                        .boolean()
                        .not_null()
                        .default(true),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiToken::Table)
                .add_column(
                    ColumnDef::new(ApiToken::Name)
                        .string()
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiToken::Table)
                .add_column(ColumnDef::new(ApiToken::LastUsedAt).big_integer().null())
                .to_owned(),
        )
        .await
    }
}
