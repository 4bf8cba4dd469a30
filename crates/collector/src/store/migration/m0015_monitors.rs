//! Monitors (cron check-ins, uptime checks, sitemap runs), their results, and outbox rows
//! about a monitor rather than an issue.

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, id, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Monitor {
    Table,
    Id,
    ProjectId,
    Slug,
    Name,
    Kind,
    Status,
    Paused,
    Config,
    Environment,
    ConsecutiveFailures,
    ConsecutiveOk,
    NextDueAt,
    LastCheckAt,
    StateSince,
    CertExpiresAt,
    CertWarnedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MonitorCheckin {
    Table,
    Id,
    MonitorId,
    CheckInId,
    Status,
    Environment,
    StartedAt,
    FinishedAt,
    DurationMs,
    TimeoutAt,
    HttpStatus,
    Error,
    Summary,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    MonitorId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Monitor::Table)
                .col(id(Monitor::Id))
                .col(big(Monitor::ProjectId))
                .col(text(Monitor::Slug))
                .col(text(Monitor::Name))
                .col(text(Monitor::Kind))
                .col(text(Monitor::Status))
                .col(ColumnDef::new(Monitor::Paused).boolean().not_null())
                .col(text(Monitor::Config))
                .col(text_null(Monitor::Environment))
                .col(big(Monitor::ConsecutiveFailures))
                .col(big(Monitor::ConsecutiveOk))
                .col(big_null(Monitor::NextDueAt))
                .col(big_null(Monitor::LastCheckAt))
                .col(big(Monitor::StateSince))
                .col(big_null(Monitor::CertExpiresAt))
                .col(big_null(Monitor::CertWarnedAt))
                .col(big(Monitor::CreatedAt))
                .col(big(Monitor::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("monitor_project_slug")
                .table(Monitor::Table)
                .col(Monitor::ProjectId)
                .col(Monitor::Slug)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("monitor_next_due")
                .table(Monitor::Table)
                .col(Monitor::NextDueAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MonitorCheckin::Table)
                .col(id(MonitorCheckin::Id))
                .col(big(MonitorCheckin::MonitorId))
                .col(text_null(MonitorCheckin::CheckInId))
                .col(text(MonitorCheckin::Status))
                .col(text_null(MonitorCheckin::Environment))
                .col(big(MonitorCheckin::StartedAt))
                .col(big_null(MonitorCheckin::FinishedAt))
                .col(big_null(MonitorCheckin::DurationMs))
                .col(big_null(MonitorCheckin::TimeoutAt))
                .col(big_null(MonitorCheckin::HttpStatus))
                .col(text_null(MonitorCheckin::Error))
                .col(text_null(MonitorCheckin::Summary))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("monitor_checkin_monitor_started")
                .table(MonitorCheckin::Table)
                .col(MonitorCheckin::MonitorId)
                .col(MonitorCheckin::StartedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("monitor_checkin_monitor_check_in_id")
                .table(MonitorCheckin::Table)
                .col(MonitorCheckin::MonitorId)
                .col(MonitorCheckin::CheckInId)
                .unique()
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // The scheduler looks for runs still in progress past their time.
        db.execute_unprepared(
            "CREATE INDEX monitor_checkin_running ON monitor_checkin (timeout_at) \
             WHERE status = 'in_progress'",
        )
        .await?;
        // Outbox rows about a monitor have no issue and no event.
        match db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => {
                // SQLite cannot drop NOT NULL: the table is rebuilt with the same rows, in
                // one batch on one connection.
                let columns = "id, project_id, issue_id, event_row_id, kind, channel, webhook_id, \
                     status, attempts, next_attempt_at, claimed_until, last_error, created_at, sent_at";
                db.execute_unprepared(&format!(
                    "CREATE TABLE outbox_rebuilt (\
                       id integer NOT NULL PRIMARY KEY AUTOINCREMENT, project_id bigint NOT NULL, \
                       issue_id bigint NULL, event_row_id bigint NULL, kind text NOT NULL, \
                       channel text NOT NULL, webhook_id bigint NULL, status text NOT NULL, \
                       attempts bigint NOT NULL, next_attempt_at bigint NOT NULL, \
                       claimed_until bigint NULL, last_error text NULL, created_at bigint NOT NULL, \
                       sent_at bigint NULL); \
                     INSERT INTO outbox_rebuilt ({columns}) SELECT {columns} FROM outbox; \
                     DROP TABLE outbox; \
                     ALTER TABLE outbox_rebuilt RENAME TO outbox; \
                     CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at); \
                     CREATE INDEX outbox_project_id ON outbox (project_id, id); \
                     CREATE INDEX outbox_issue_id ON outbox (issue_id, id);"
                ))
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE outbox ALTER COLUMN issue_id DROP NOT NULL, \
                     ALTER COLUMN event_row_id DROP NOT NULL",
                )
                .await?;
            }
        }
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(big_null(Outbox::MonitorId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(text_null(Outbox::Detail))
                .to_owned(),
        )
        .await
    }
}
