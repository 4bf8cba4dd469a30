//! Release health: request counts per release, environment and route, by minute
//! (rolled up to hours after a day), from Sentry `session`/`sessions` items; and
//! deploys, when a release went out to an environment.

use sea_orm_migration::prelude::*;

use super::columns::{big, id, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ReleaseHealth {
    Table,
    ProjectId,
    Release,
    Environment,
    Route,
    BucketStart,
    Span,
    Ok,
    Errored,
    Crashed,
}

#[derive(DeriveIden)]
enum Deploy {
    Table,
    Id,
    ProjectId,
    Release,
    Environment,
    DeployedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReleaseHealth::Table)
                .col(big(ReleaseHealth::ProjectId))
                .col(text(ReleaseHealth::Release))
                // Empty when the sender named none, so the key has no NULL in it.
                .col(text(ReleaseHealth::Environment))
                .col(text(ReleaseHealth::Route))
                .col(big(ReleaseHealth::BucketStart))
                .col(text(ReleaseHealth::Span))
                .col(big(ReleaseHealth::Ok))
                .col(big(ReleaseHealth::Errored))
                .col(big(ReleaseHealth::Crashed))
                .primary_key(
                    Index::create()
                        .col(ReleaseHealth::ProjectId)
                        .col(ReleaseHealth::Release)
                        .col(ReleaseHealth::Environment)
                        .col(ReleaseHealth::Route)
                        .col(ReleaseHealth::BucketStart)
                        .col(ReleaseHealth::Span),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ReleaseHealth::Table, ReleaseHealth::ProjectId)
                        .to(Project::Table, Project::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("release_health_project_bucket")
                .table(ReleaseHealth::Table)
                .col(ReleaseHealth::ProjectId)
                .col(ReleaseHealth::BucketStart)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Deploy::Table)
                .col(id(Deploy::Id))
                .col(big(Deploy::ProjectId))
                .col(text(Deploy::Release))
                .col(text(Deploy::Environment))
                .col(big(Deploy::DeployedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Deploy::Table, Deploy::ProjectId)
                        .to(Project::Table, Project::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("deploy_project_release")
                .table(Deploy::Table)
                .col(Deploy::ProjectId)
                .col(Deploy::Release)
                .to_owned(),
        )
        .await
    }
}
