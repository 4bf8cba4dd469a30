//! Schema migrations, run at every start (each runs once).

use sea_orm_migration::prelude::*;

/// All migrations, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Initial),
            Box::new(Notifications),
            Box::new(WebSessions),
            Box::new(FilterIndexes),
            Box::new(ProjectRetention),
            Box::new(MembershipRoles),
            Box::new(AccountManagement),
            Box::new(AuditLog),
            Box::new(DeliveryIndexes),
            Box::new(SnoozeAndNextRelease),
            Box::new(Merges),
            Box::new(Comments),
            Box::new(FilterValues),
            Box::new(IssueTags),
            Box::new(Monitors),
            Box::new(Outreach),
        ]
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

#[derive(DeriveIden)]
enum Project {
    Table,
    Id,
    Name,
    RateLimitPerMinute,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProjectKey {
    Table,
    Id,
    ProjectId,
    PublicKey,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    IsAdmin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    ProjectId,
    AccountId,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Issue {
    Table,
    Id,
    ProjectId,
    Fingerprint,
    Title,
    Culprit,
    Level,
    Status,
    FirstSeen,
    LastSeen,
    EventCount,
    UserCount,
    FirstRelease,
    LastRelease,
    LastEnvironment,
    RegressionCount,
    LastRegressedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)] // `Event::EventId` names the column `event_id`.
enum Event {
    Table,
    Id,
    ProjectId,
    IssueId,
    EventId,
    ReceivedAt,
    Timestamp,
    Level,
    Environment,
    Release,
    UserKey,
    Payload,
}

#[derive(DeriveIden)]
enum AffectedUser {
    Table,
    Id,
    IssueId,
    UserKey,
    UserId,
    Email,
    Username,
    Name,
    IpAddress,
    EventCount,
    FirstSeen,
    LastSeen,
}

fn id<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn big<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

fn big_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

fn text<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

fn text_null<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Project::Table)
                .if_not_exists()
                .col(id(Project::Id))
                .col(text(Project::Name).unique_key().to_owned())
                .col(big(Project::RateLimitPerMinute))
                .col(big(Project::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProjectKey::Table)
                .if_not_exists()
                .col(id(ProjectKey::Id))
                .col(big(ProjectKey::ProjectId))
                .col(text(ProjectKey::PublicKey).unique_key().to_owned())
                .col(ColumnDef::new(ProjectKey::Active).boolean().not_null())
                .col(big(ProjectKey::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Account::Table)
                .if_not_exists()
                .col(id(Account::Id))
                .col(text(Account::Email).unique_key().to_owned())
                .col(text_null(Account::Name))
                .col(text(Account::PasswordHash))
                .col(ColumnDef::new(Account::IsAdmin).boolean().not_null())
                .col(big(Account::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Membership::Table)
                .if_not_exists()
                .col(big(Membership::ProjectId))
                .col(big(Membership::AccountId))
                .primary_key(
                    Index::create()
                        .col(Membership::ProjectId)
                        .col(Membership::AccountId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApiToken::Table)
                .if_not_exists()
                .col(id(ApiToken::Id))
                .col(big(ApiToken::AccountId))
                .col(text(ApiToken::TokenHash).unique_key().to_owned())
                .col(big(ApiToken::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Issue::Table)
                .if_not_exists()
                .col(id(Issue::Id))
                .col(big(Issue::ProjectId))
                .col(text(Issue::Fingerprint))
                .col(text(Issue::Title))
                .col(text_null(Issue::Culprit))
                .col(text(Issue::Level))
                .col(text(Issue::Status))
                .col(big(Issue::FirstSeen))
                .col(big(Issue::LastSeen))
                .col(big(Issue::EventCount))
                .col(big(Issue::UserCount))
                .col(text_null(Issue::FirstRelease))
                .col(text_null(Issue::LastRelease))
                .col(text_null(Issue::LastEnvironment))
                .col(big(Issue::RegressionCount))
                .col(big_null(Issue::LastRegressedAt))
                .col(big_null(Issue::ResolvedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_project_fingerprint")
                .table(Issue::Table)
                .col(Issue::ProjectId)
                .col(Issue::Fingerprint)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_project_status_last_seen")
                .table(Issue::Table)
                .col(Issue::ProjectId)
                .col(Issue::Status)
                .col(Issue::LastSeen)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Event::Table)
                .if_not_exists()
                .col(id(Event::Id))
                .col(big(Event::ProjectId))
                .col(big(Event::IssueId))
                .col(text(Event::EventId))
                .col(big(Event::ReceivedAt))
                .col(big(Event::Timestamp))
                .col(text(Event::Level))
                .col(text_null(Event::Environment))
                .col(text_null(Event::Release))
                .col(text_null(Event::UserKey))
                .col(ColumnDef::new(Event::Payload).blob().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_project_event_id")
                .table(Event::Table)
                .col(Event::ProjectId)
                .col(Event::EventId)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_issue_id")
                .table(Event::Table)
                .col(Event::IssueId)
                .col(Event::Id)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("event_received_at")
                .table(Event::Table)
                .col(Event::ReceivedAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AffectedUser::Table)
                .if_not_exists()
                .col(id(AffectedUser::Id))
                .col(big(AffectedUser::IssueId))
                .col(text(AffectedUser::UserKey))
                .col(text_null(AffectedUser::UserId))
                .col(text_null(AffectedUser::Email))
                .col(text_null(AffectedUser::Username))
                .col(text_null(AffectedUser::Name))
                .col(text_null(AffectedUser::IpAddress))
                .col(big(AffectedUser::EventCount))
                .col(big(AffectedUser::FirstSeen))
                .col(big(AffectedUser::LastSeen))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("affected_user_issue_key")
                .table(AffectedUser::Table)
                .col(AffectedUser::IssueId)
                .col(AffectedUser::UserKey)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

struct Notifications;

impl MigrationName for Notifications {
    fn name(&self) -> &str {
        "m0002_notifications"
    }
}

#[derive(DeriveIden)]
enum ProjectNotify {
    #[sea_orm(iden = "project")]
    Table,
    SpikeThreshold,
    SpikeWindowMinutes,
}

#[derive(DeriveIden)]
enum IssueNotify {
    #[sea_orm(iden = "issue")]
    Table,
    LastNotifiedAt,
}

#[derive(DeriveIden)]
enum Recipient {
    Table,
    Id,
    ProjectId,
    Email,
}

#[derive(DeriveIden)]
enum Webhook {
    Table,
    Id,
    ProjectId,
    Url,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    ProjectId,
    IssueId,
    EventRowId,
    Kind,
    Channel,
    WebhookId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Notifications {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ADD COLUMN per statement.
        for column in [
            ColumnDef::new(ProjectNotify::SpikeThreshold)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(ProjectNotify::SpikeWindowMinutes)
                .big_integer()
                .not_null()
                .default(10)
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProjectNotify::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(IssueNotify::Table)
                .add_column(big_null(IssueNotify::LastNotifiedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Recipient::Table)
                .if_not_exists()
                .col(id(Recipient::Id))
                .col(big(Recipient::ProjectId))
                .col(text(Recipient::Email))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recipient_project_email")
                .table(Recipient::Table)
                .col(Recipient::ProjectId)
                .col(Recipient::Email)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Webhook::Table)
                .if_not_exists()
                .col(id(Webhook::Id))
                .col(big(Webhook::ProjectId))
                .col(text(Webhook::Url))
                .col(text(Webhook::Secret))
                .col(big(Webhook::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .if_not_exists()
                .col(id(Outbox::Id))
                .col(big(Outbox::ProjectId))
                .col(big(Outbox::IssueId))
                .col(big(Outbox::EventRowId))
                .col(text(Outbox::Kind))
                .col(text(Outbox::Channel))
                .col(big_null(Outbox::WebhookId))
                .col(text(Outbox::Status))
                .col(big(Outbox::Attempts))
                .col(big(Outbox::NextAttemptAt))
                .col(big_null(Outbox::ClaimedUntil))
                .col(text_null(Outbox::LastError))
                .col(big(Outbox::CreatedAt))
                .col(big_null(Outbox::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_status_next")
                .table(Outbox::Table)
                .col(Outbox::Status)
                .col(Outbox::NextAttemptAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

struct WebSessions;

impl MigrationName for WebSessions {
    fn name(&self) -> &str {
        "m0003_web_sessions"
    }
}

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
impl MigrationTrait for WebSessions {
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

/// Indexes for the issue list: its environment and release filters (does an issue have
/// events in this environment?) and its sort orders.
struct FilterIndexes;

impl MigrationName for FilterIndexes {
    fn name(&self) -> &str {
        "m0004_issue_list_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FilterIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [
            ("event_issue_environment", Event::Environment),
            ("event_issue_release", Event::Release),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Event::Table)
                    .col(Event::IssueId)
                    .col(column)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        for (name, column) in [
            ("issue_project_status_first_seen", Issue::FirstSeen),
            ("issue_project_status_events", Issue::EventCount),
            ("issue_project_status_users", Issue::UserCount),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Issue::Table)
                    .col(Issue::ProjectId)
                    .col(Issue::Status)
                    .col(column)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Retention per project (0: the collector's defaults).
struct ProjectRetention;

impl MigrationName for ProjectRetention {
    fn name(&self) -> &str {
        "m0005_project_retention"
    }
}

#[derive(DeriveIden)]
enum ProjectRetentionColumns {
    #[sea_orm(iden = "project")]
    Table,
    RetentionEventsPerIssue,
    RetentionDays,
}

#[async_trait::async_trait]
impl MigrationTrait for ProjectRetention {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ProjectRetentionColumns::RetentionEventsPerIssue,
            ProjectRetentionColumns::RetentionDays,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProjectRetentionColumns::Table)
                    .add_column(ColumnDef::new(column).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// A role per membership; memberships that existed become `member`.
struct MembershipRoles;

impl MigrationName for MembershipRoles {
    fn name(&self) -> &str {
        "m0006_membership_roles"
    }
}

#[derive(DeriveIden)]
enum MembershipRolesColumns {
    #[sea_orm(iden = "membership")]
    Table,
    Role,
}

#[async_trait::async_trait]
impl MigrationTrait for MembershipRoles {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MembershipRolesColumns::Table)
                .add_column(
                    ColumnDef::new(MembershipRolesColumns::Role)
                        .string()
                        .not_null()
                        .default("member"),
                )
                .to_owned(),
        )
        .await
    }
}

/// Accounts can be deactivated; API tokens get a name and a last use.
struct AccountManagement;

impl MigrationName for AccountManagement {
    fn name(&self) -> &str {
        "m0007_account_management"
    }
}

#[derive(DeriveIden)]
enum AccountManagementColumns {
    #[sea_orm(iden = "account")]
    Account,
    Active,
    #[sea_orm(iden = "api_token")]
    ApiToken,
    Name,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for AccountManagement {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use AccountManagementColumns as C;
        m.alter_table(
            Table::alter()
                .table(C::Account)
                .add_column(ColumnDef::new(C::Active).boolean().not_null().default(true))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(C::ApiToken)
                .add_column(ColumnDef::new(C::Name).string().not_null().default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(C::ApiToken)
                .add_column(ColumnDef::new(C::LastUsedAt).big_integer().null())
                .to_owned(),
        )
        .await
    }
}

/// The audit log: who changed which setting, key, member, webhook, recipient or status.
struct AuditLog;

impl MigrationName for AuditLog {
    fn name(&self) -> &str {
        "m0008_audit_log"
    }
}

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
impl MigrationTrait for AuditLog {
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

/// Indexes for the deliveries shown on the settings page (a project's latest) and the
/// issue page (an issue's).
struct DeliveryIndexes;

impl MigrationName for DeliveryIndexes {
    fn name(&self) -> &str {
        "m0009_delivery_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DeliveryIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("outbox_project_id")
                .table(Outbox::Table)
                .col(Outbox::ProjectId)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_issue_id")
                .table(Outbox::Table)
                .col(Outbox::IssueId)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await
    }
}

/// Ignoring an issue until more events, more users or a date, and resolving it in the
/// next release.
struct SnoozeAndNextRelease;

impl MigrationName for SnoozeAndNextRelease {
    fn name(&self) -> &str {
        "m0010_snooze_and_next_release"
    }
}

#[derive(DeriveIden)]
enum IssueSnooze {
    #[sea_orm(iden = "issue")]
    Table,
    SnoozeUntil,
    SnoozeEvents,
    SnoozeUsers,
    ResolvedInRelease,
    ResolvedRelease,
}

#[async_trait::async_trait]
impl MigrationTrait for SnoozeAndNextRelease {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            big_null(IssueSnooze::SnoozeUntil),
            big_null(IssueSnooze::SnoozeEvents),
            big_null(IssueSnooze::SnoozeUsers),
            text_null(IssueSnooze::ResolvedInRelease),
            text_null(IssueSnooze::ResolvedRelease),
        ] {
            m.alter_table(
                Table::alter()
                    .table(IssueSnooze::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Merging issues: a merged issue points at the issue it joined, events moved remember
/// the issue they were grouped into, and the merged issue's fingerprint is an alias, so
/// that its new events join the target too (and can be moved back on unmerge).
struct Merges;

impl MigrationName for Merges {
    fn name(&self) -> &str {
        "m0011_merges"
    }
}

#[derive(DeriveIden)]
enum IssueMerge {
    #[sea_orm(iden = "issue")]
    Table,
    MergedInto,
}

#[derive(DeriveIden)]
enum EventMerge {
    #[sea_orm(iden = "event")]
    Table,
    GroupedAs,
}

#[derive(DeriveIden)]
enum IssueAlias {
    Table,
    Id,
    ProjectId,
    Fingerprint,
    SourceIssueId,
    TargetIssueId,
    TargetFingerprint,
    EventsAdded,
}

#[async_trait::async_trait]
impl MigrationTrait for Merges {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IssueMerge::Table)
                .add_column(big_null(IssueMerge::MergedInto))
                .to_owned(),
        )
        .await?;
        // The issue page lists what was merged into it. Partial: nearly every issue's
        // is NULL, and a full index would tell the planner the column is useless.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX issue_merged_into ON issue (merged_into) \
                 WHERE merged_into IS NOT NULL",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table(EventMerge::Table)
                .add_column(big_null(EventMerge::GroupedAs))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(IssueAlias::Table)
                .col(
                    ColumnDef::new(IssueAlias::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(IssueAlias::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(IssueAlias::Fingerprint).text().not_null())
                .col(
                    ColumnDef::new(IssueAlias::SourceIssueId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueAlias::TargetIssueId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueAlias::TargetFingerprint)
                        .text()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueAlias::EventsAdded)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_alias_project_fingerprint")
                .table(IssueAlias::Table)
                .col(IssueAlias::ProjectId)
                .col(IssueAlias::Fingerprint)
                .unique()
                .to_owned(),
        )
        .await
    }
}

/// Comments on issues, shown in their history.
struct Comments;

impl MigrationName for Comments {
    fn name(&self) -> &str {
        "m0012_comments"
    }
}

#[derive(DeriveIden)]
enum IssueComment {
    Table,
    Id,
    ProjectId,
    IssueId,
    Author,
    Body,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Comments {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IssueComment::Table)
                .col(
                    ColumnDef::new(IssueComment::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(IssueComment::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IssueComment::IssueId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(IssueComment::Author).text().not_null())
                .col(ColumnDef::new(IssueComment::Body).text().not_null())
                .col(ColumnDef::new(IssueComment::At).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_comment_issue_id")
                .table(IssueComment::Table)
                .col(IssueComment::IssueId)
                .col(IssueComment::Id)
                .to_owned(),
        )
        .await
    }
}

/// The environments and releases seen per project, for the issue list's selects (a
/// distinct scan of a million events, or of every issue, per page view is too slow),
/// filled from the events already stored; and an index for the tabs' counts.
struct FilterValues;

impl MigrationName for FilterValues {
    fn name(&self) -> &str {
        "m0013_filter_values"
    }
}

#[derive(DeriveIden)]
enum FilterValue {
    Table,
    Id,
    ProjectId,
    Kind,
    Value,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for FilterValues {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FilterValue::Table)
                .col(
                    ColumnDef::new(FilterValue::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(FilterValue::ProjectId)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(FilterValue::Kind).text().not_null())
                .col(ColumnDef::new(FilterValue::Value).text().not_null())
                .col(
                    ColumnDef::new(FilterValue::LastSeen)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("filter_value_project_kind_value")
                .table(FilterValue::Table)
                .col(FilterValue::ProjectId)
                .col(FilterValue::Kind)
                .col(FilterValue::Value)
                .unique()
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // The tabs count the issues that are not merged, per status: a partial index
        // holds exactly those.
        db.execute_unprepared(
            "CREATE INDEX issue_live_status ON issue (project_id, status) \
             WHERE merged_into IS NULL",
        )
        .await?;
        for (kind, column) in [("environment", "environment"), ("release", "release")] {
            db.execute_unprepared(&format!(
                "INSERT INTO filter_value (project_id, kind, value, last_seen) \
                 SELECT project_id, '{kind}', {column}, MAX(received_at) FROM event \
                 WHERE {column} IS NOT NULL GROUP BY project_id, {column}"
            ))
            .await?;
        }
        Ok(())
    }
}

/// The tag values and messages of each issue's events, for the search box's words.
struct IssueTags;

impl MigrationName for IssueTags {
    fn name(&self) -> &str {
        "m0014_issue_tags"
    }
}

#[derive(DeriveIden)]
enum IssueTag {
    Table,
    Id,
    IssueId,
    Key,
    Value,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for IssueTags {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IssueTag::Table)
                .col(
                    ColumnDef::new(IssueTag::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(IssueTag::IssueId).big_integer().not_null())
                .col(ColumnDef::new(IssueTag::Key).text().not_null())
                .col(ColumnDef::new(IssueTag::Value).text().not_null())
                .col(ColumnDef::new(IssueTag::LastSeen).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("issue_tag_issue_key_value")
                .table(IssueTag::Table)
                .col(IssueTag::IssueId)
                .col(IssueTag::Key)
                .col(IssueTag::Value)
                .unique()
                .to_owned(),
        )
        .await
    }
}

/// Monitors (cron check-ins, uptime checks, sitemap runs), their results, and outbox rows
/// about a monitor rather than an issue.
struct Monitors;

impl MigrationName for Monitors {
    fn name(&self) -> &str {
        "m0015_monitors"
    }
}

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
enum OutboxMonitor {
    #[sea_orm(iden = "outbox")]
    Table,
    MonitorId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Monitors {
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
                .table(OutboxMonitor::Table)
                .add_column(big_null(OutboxMonitor::MonitorId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OutboxMonitor::Table)
                .add_column(text_null(OutboxMonitor::Detail))
                .to_owned(),
        )
        .await
    }
}

/// Writing to the users a crash hit: project settings, messages (once per user and
/// issue), the do-not-contact list, follow-ups waiting for a fix to go live, and outbox
/// rows that carry one message.
struct Outreach;

impl MigrationName for Outreach {
    fn name(&self) -> &str {
        "m0016_outreach"
    }
}

#[derive(DeriveIden)]
enum ProjectOutreach {
    #[sea_orm(iden = "project")]
    Table,
    OutreachEnabled,
    OutreachFrom,
    OutreachReplyTo,
    OutreachWeeklyLimit,
    OutreachSubject,
    OutreachTemplate,
    OutreachFixedSubject,
    OutreachFixedTemplate,
}

#[derive(DeriveIden)]
enum OutreachMessage {
    Table,
    Id,
    ProjectId,
    IssueId,
    UserKey,
    Email,
    Name,
    Kind,
    Subject,
    Body,
    SentBy,
    UnsubscribeToken,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DoNotContact {
    Table,
    Id,
    ProjectId,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutreachFix {
    Table,
    Id,
    ProjectId,
    IssueId,
    AfterRelease,
    Environment,
    RequestedBy,
    RequestedAt,
    LiveAt,
}

#[derive(DeriveIden)]
enum OutboxOutreach {
    #[sea_orm(iden = "outbox")]
    Table,
    OutreachId,
}

#[async_trait::async_trait]
impl MigrationTrait for Outreach {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(ProjectOutreach::OutreachEnabled)
                .boolean()
                .not_null()
                .default(true)
                .to_owned(),
            text_null(ProjectOutreach::OutreachFrom),
            text_null(ProjectOutreach::OutreachReplyTo),
            ColumnDef::new(ProjectOutreach::OutreachWeeklyLimit)
                .big_integer()
                .not_null()
                .default(2)
                .to_owned(),
            text_null(ProjectOutreach::OutreachSubject),
            text_null(ProjectOutreach::OutreachTemplate),
            text_null(ProjectOutreach::OutreachFixedSubject),
            text_null(ProjectOutreach::OutreachFixedTemplate),
        ];
        for mut column in columns {
            m.alter_table(
                Table::alter()
                    .table(ProjectOutreach::Table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(OutreachMessage::Table)
                .col(id(OutreachMessage::Id))
                .col(big(OutreachMessage::ProjectId))
                .col(big(OutreachMessage::IssueId))
                .col(text(OutreachMessage::UserKey))
                .col(text(OutreachMessage::Email))
                .col(text_null(OutreachMessage::Name))
                .col(text(OutreachMessage::Kind))
                .col(text(OutreachMessage::Subject))
                .col(text(OutreachMessage::Body))
                .col(text(OutreachMessage::SentBy))
                .col(text(OutreachMessage::UnsubscribeToken))
                .col(big(OutreachMessage::CreatedAt))
                .to_owned(),
        )
        .await?;
        // Once per user and issue, however many collectors are asked at once.
        m.create_index(
            Index::create()
                .name("outreach_message_issue_user")
                .table(OutreachMessage::Table)
                .col(OutreachMessage::IssueId)
                .col(OutreachMessage::UserKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outreach_message_project_email")
                .table(OutreachMessage::Table)
                .col(OutreachMessage::ProjectId)
                .col(OutreachMessage::Email)
                .col(OutreachMessage::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outreach_message_unsubscribe")
                .table(OutreachMessage::Table)
                .col(OutreachMessage::UnsubscribeToken)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DoNotContact::Table)
                .col(id(DoNotContact::Id))
                .col(big(DoNotContact::ProjectId))
                .col(text(DoNotContact::Email))
                .col(big(DoNotContact::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("do_not_contact_project_email")
                .table(DoNotContact::Table)
                .col(DoNotContact::ProjectId)
                .col(DoNotContact::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OutreachFix::Table)
                .col(id(OutreachFix::Id))
                .col(big(OutreachFix::ProjectId))
                .col(big(OutreachFix::IssueId))
                .col(text_null(OutreachFix::AfterRelease))
                .col(text_null(OutreachFix::Environment))
                .col(text(OutreachFix::RequestedBy))
                .col(big(OutreachFix::RequestedAt))
                .col(big_null(OutreachFix::LiveAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outreach_fix_issue")
                .table(OutreachFix::Table)
                .col(OutreachFix::IssueId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OutboxOutreach::Table)
                .add_column(big_null(OutboxOutreach::OutreachId))
                .to_owned(),
        )
        .await
    }
}
