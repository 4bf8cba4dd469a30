//! A role per membership; memberships that existed become `member`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Membership {
    Table,
    Role,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Membership::Table)
                .add_column(
                    ColumnDef::new(Membership::Role)
                        .string()
                        .not_null()
                        .default("member"),
                )
                .to_owned(),
        )
        .await
    }
}
