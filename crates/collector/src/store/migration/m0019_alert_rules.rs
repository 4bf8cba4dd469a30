//! Alert rules: a project's rules (conditions, filters, actions and throttle, as JSON
//! the `alerts` module reads), when each rule last alerted about each issue (the
//! throttle, and which PagerDuty incidents to resolve), and the rule and action an
//! outbox row delivers. Every existing project gets one rule equal to what it was told
//! before (a new issue, a regression, its spike setting, to its recipients and
//! webhooks), so nothing changes until someone edits it.

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, id, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Project {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AlertRule {
    Table,
    Id,
    ProjectId,
    Name,
    MatchMode,
    Conditions,
    Filters,
    Actions,
    ThrottleMinutes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AlertFire {
    Table,
    RuleId,
    IssueId,
    FiredAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    RuleId,
    Action,
}

/// The rule every project had before rules existed; `throttle_minutes` NULL is the
/// collector's `MAYDAY_NOTIFY_WINDOW_MINUTES`, as the spike's quiet time was.
const DEFAULT_RULE: &str = "INSERT INTO alert_rule \
    (project_id, name, match_mode, conditions, filters, actions, throttle_minutes, created_at, updated_at) \
    SELECT id, 'Default', 'any', \
    CASE WHEN spike_threshold > 0 THEN \
      '[{\"kind\":\"first_seen\"},{\"kind\":\"regression\"},{\"kind\":\"event_frequency\",\"value\":' \
      || CAST(spike_threshold AS TEXT) || ',\"interval_minutes\":' || CAST(spike_window_minutes AS TEXT) || '}]' \
    ELSE '[{\"kind\":\"first_seen\"},{\"kind\":\"regression\"}]' END, \
    '[]', '[{\"kind\":\"email\",\"to\":\"recipients\"},{\"kind\":\"webhook\"}]', NULL, created_at, created_at \
    FROM project";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AlertRule::Table)
                .col(id(AlertRule::Id))
                .col(big(AlertRule::ProjectId))
                .col(text(AlertRule::Name))
                .col(text(AlertRule::MatchMode))
                .col(text(AlertRule::Conditions))
                .col(text(AlertRule::Filters))
                .col(text(AlertRule::Actions))
                .col(big_null(AlertRule::ThrottleMinutes))
                .col(big(AlertRule::CreatedAt))
                .col(big(AlertRule::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(AlertRule::Table, AlertRule::ProjectId)
                        .to(Project::Table, Project::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("alert_rule_project")
                .table(AlertRule::Table)
                .col(AlertRule::ProjectId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AlertFire::Table)
                .col(big(AlertFire::RuleId))
                .col(big(AlertFire::IssueId))
                .col(big(AlertFire::FiredAt))
                .primary_key(
                    Index::create()
                        .col(AlertFire::RuleId)
                        .col(AlertFire::IssueId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(AlertFire::Table, AlertFire::RuleId)
                        .to(AlertRule::Table, AlertRule::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("alert_fire_issue")
                .table(AlertFire::Table)
                .col(AlertFire::IssueId)
                .to_owned(),
        )
        .await?;
        for column in [big_null(Outbox::RuleId), text_null(Outbox::Action)] {
            m.alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.get_connection().execute_unprepared(DEFAULT_RULE).await?;
        Ok(())
    }
}
