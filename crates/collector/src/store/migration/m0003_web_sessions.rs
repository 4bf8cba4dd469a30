//! Sessions of accounts signed in to the web UI (the cookie's hash, its CSRF token,
//! when it expires).

use sea_orm_migration::prelude::*;

use super::columns::{big, id, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebSession {
    Table,
    Id,
    TokenHash,
    AccountId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebSession::Table)
                .if_not_exists()
                .col(id(WebSession::Id))
                .col(text(WebSession::TokenHash).unique_key().to_owned())
                .col(big(WebSession::AccountId))
                .col(text(WebSession::CsrfToken))
                .col(big(WebSession::CreatedAt))
                .col(big(WebSession::ExpiresAt))
                .to_owned(),
        )
        .await
    }
}
