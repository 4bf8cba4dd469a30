//! The audit log: who changed which setting, key, member, webhook, recipient or status.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    ProjectId,
    Actor,
    Action,
    Target,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEntry::Table)
                .col(
                    ColumnDef::new(AuditEntry::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AuditEntry::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEntry::Actor).string().not_null())
                .col(ColumnDef::new(AuditEntry::Action).string().not_null())
                .col(ColumnDef::new(AuditEntry::Target).string().not_null())
                .col(ColumnDef::new(AuditEntry::At).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_entry_project_id")
                .table(AuditEntry::Table)
                .col(AuditEntry::ProjectId)
                .col(AuditEntry::Id)
                .to_owned(),
        )
        .await
    }
}
