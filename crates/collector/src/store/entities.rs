//! Table definitions (sea-orm entities) and the states stored in them (enums, stored as
//! their lowercase names). Times are Unix milliseconds (`i64`), which both SQLite and
//! PostgreSQL store and sort the same way.

use sea_orm::Iterable;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An issue's status.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    /// Open: new, or seen again after being resolved.
    #[sea_orm(string_value = "unresolved")]
    Unresolved,
    /// Fixed; a new event reopens it as a regression.
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// Muted; new events are counted but it stays ignored.
    #[sea_orm(string_value = "ignored")]
    Ignored,
}

/// How severe an event is (Sentry's levels).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    /// `fatal`: a crash (panics are fatal).
    #[sea_orm(string_value = "fatal")]
    Fatal,
    /// `error`.
    #[sea_orm(string_value = "error")]
    Error,
    /// `warning`.
    #[sea_orm(string_value = "warning")]
    Warning,
    /// `info`.
    #[sea_orm(string_value = "info")]
    Info,
    /// `debug`.
    #[sea_orm(string_value = "debug")]
    Debug,
}

impl From<mayday_protocol::Level> for EventLevel {
    fn from(level: mayday_protocol::Level) -> Self {
        match level {
            mayday_protocol::Level::Fatal => EventLevel::Fatal,
            mayday_protocol::Level::Error => EventLevel::Error,
            mayday_protocol::Level::Warning => EventLevel::Warning,
            mayday_protocol::Level::Info => EventLevel::Info,
            mayday_protocol::Level::Debug => EventLevel::Debug,
        }
    }
}

/// Why a notification was queued.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The first event of an issue.
    #[sea_orm(string_value = "new_issue")]
    NewIssue,
    /// A resolved issue was seen again.
    #[sea_orm(string_value = "regression")]
    Regression,
    /// An issue got more events in a while than the project's spike threshold.
    #[sea_orm(string_value = "spike")]
    Spike,
    /// A test from the settings page ("send test email", "send test webhook"); never
    /// queued, sent at once.
    #[sea_orm(string_value = "test")]
    Test,
    /// A cron monitor's check-in did not arrive in time.
    #[sea_orm(string_value = "monitor_missed")]
    MonitorMissed,
    /// A cron job reported an error.
    #[sea_orm(string_value = "monitor_failed")]
    MonitorFailed,
    /// A cron job started and did not finish within its maximum runtime.
    #[sea_orm(string_value = "monitor_timeout")]
    MonitorTimeout,
    /// An uptime check failed as many times in a row as its monitor allows.
    #[sea_orm(string_value = "monitor_down")]
    MonitorDown,
    /// A failing monitor succeeded again.
    #[sea_orm(string_value = "monitor_recovered")]
    MonitorRecovered,
    /// A checked site's TLS certificate expires soon.
    #[sea_orm(string_value = "certificate_expiring")]
    CertificateExpiring,
    /// A message the team wrote to a user an issue affected.
    #[sea_orm(string_value = "outreach")]
    Outreach,
    /// The "it's fixed" follow-up to a user an issue affected.
    #[sea_orm(string_value = "outreach_fixed")]
    OutreachFixed,
}

impl NotificationKind {
    /// Whether the notification is about a monitor rather than an issue.
    pub fn is_monitor(self) -> bool {
        matches!(
            self,
            NotificationKind::MonitorMissed
                | NotificationKind::MonitorFailed
                | NotificationKind::MonitorTimeout
                | NotificationKind::MonitorDown
                | NotificationKind::MonitorRecovered
                | NotificationKind::CertificateExpiring
        )
    }
}

/// What a monitor watches.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum MonitorKind {
    /// A scheduled job that checks in (Sentry's crons).
    #[sea_orm(string_value = "cron")]
    Cron,
    /// A URL requested on a schedule (uptime).
    #[sea_orm(string_value = "http")]
    Http,
    /// Every URL of a sitemap requested on a schedule (smoke test).
    #[sea_orm(string_value = "sitemap")]
    Sitemap,
}

/// Where a monitor stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum MonitorStatus {
    /// No check-in or check yet.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The last check-in or check succeeded.
    #[sea_orm(string_value = "ok")]
    Ok,
    /// The job reported an error (or a sitemap run found failing pages).
    #[sea_orm(string_value = "error")]
    Error,
    /// The job did not check in on time.
    #[sea_orm(string_value = "missed")]
    Missed,
    /// The job started and did not finish in time.
    #[sea_orm(string_value = "timeout")]
    Timeout,
    /// The site failed its checks.
    #[sea_orm(string_value = "down")]
    Down,
}

impl MonitorStatus {
    /// Whether the monitor is failing.
    pub fn is_failing(self) -> bool {
        matches!(
            self,
            MonitorStatus::Error
                | MonitorStatus::Missed
                | MonitorStatus::Timeout
                | MonitorStatus::Down
        )
    }
}

/// How one check-in or check went.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// The job started.
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    /// Succeeded.
    #[sea_orm(string_value = "ok")]
    Ok,
    /// Failed: the job's error, a failing answer, a sitemap run with failing pages.
    #[sea_orm(string_value = "error")]
    Error,
    /// No check-in arrived in time.
    #[sea_orm(string_value = "missed")]
    Missed,
    /// Started and not finished in time.
    #[sea_orm(string_value = "timeout")]
    Timeout,
}

/// Where a notification goes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// One email to the project's recipients.
    #[sea_orm(string_value = "email")]
    Email,
    /// A signed POST to one webhook.
    #[sea_orm(string_value = "webhook")]
    Webhook,
}

/// What a member may do in a project (an instance admin may do everything everywhere).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum ProjectRole {
    /// Sees issues and events; resolves, ignores and reopens them.
    #[sea_orm(string_value = "member")]
    Member,
    /// Also changes settings, keys, recipients, webhooks, retention, limits, members.
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// Where a notification is in its delivery.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for (another) attempt.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Delivered.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Given up after the last attempt.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// `Display` and `FromStr` by the stored names, for the wire (JSON, forms, URLs).
macro_rules! stored_names {
    ($($ty:ident),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_value())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownName;

            fn from_str(name: &str) -> Result<Self, Self::Err> {
                Self::try_from_value(&name.to_owned()).map_err(|_| UnknownName {
                    what: stringify!($ty),
                    name: name.to_owned(),
                    expected: Self::iter().map(|v| v.to_value()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    )*};
}

stored_names!(
    IssueStatus,
    EventLevel,
    NotificationKind,
    Channel,
    DeliveryStatus,
    ProjectRole,
    AuditAction,
    MonitorKind,
    MonitorStatus,
    CheckOutcome,
    OutreachKind
);

/// A name that is none of a state's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?} (expected one of: {expected})")]
pub struct UnknownName {
    what: &'static str,
    name: String,
    expected: String,
}

/// A project: one app or service, with its keys and issues.
pub mod project {
    use sea_orm::entity::prelude::*;

    /// A row of `project`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "project")]
    pub struct Model {
        /// Id, also the DSN's project id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Unique name, such as `shop`.
        #[sea_orm(unique)]
        pub name: String,
        /// Events per minute per key; 0 means the collector's default.
        pub rate_limit_per_minute: i64,
        /// Notify when an issue gets more than this many events in the spike window (0: off).
        pub spike_threshold: i64,
        /// The spike window, in minutes.
        pub spike_window_minutes: i64,
        /// Events kept per issue; 0 means the collector's default.
        pub retention_events_per_issue: i64,
        /// Days events are kept; 0 means the collector's default.
        pub retention_days: i64,
        /// Creation time.
        pub created_at: i64,
        /// Whether the team may write to affected users from this project.
        pub outreach_enabled: bool,
        /// Sender of messages to users (`Shop <help@shop.example>`); the collector's
        /// `MAYDAY_EMAIL_FROM` when unset.
        pub outreach_from: Option<String>,
        /// Where users' replies go.
        pub outreach_reply_to: Option<String>,
        /// Most messages one address gets from this project in 7 days.
        pub outreach_weekly_limit: i64,
        /// Subject of the message written from an issue (the default when unset).
        pub outreach_subject: Option<String>,
        /// Text of the message written from an issue (the default when unset).
        pub outreach_template: Option<String>,
        /// Subject of the "it's fixed" follow-up (the default when unset).
        pub outreach_fixed_subject: Option<String>,
        /// Text of the "it's fixed" follow-up (the default when unset).
        pub outreach_fixed_template: Option<String>,
    }

    /// No navigable relations; queries join explicitly.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A DSN key of a project.
pub mod project_key {
    use sea_orm::entity::prelude::*;

    /// A row of `project_key`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "project_key")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The public key in the DSN.
        #[sea_orm(unique)]
        pub public_key: String,
        /// Disabled keys are refused.
        pub active: bool,
        /// Creation time.
        pub created_at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A person who signs in to the UI or uses the API.
pub mod account {
    use sea_orm::entity::prelude::*;

    /// A row of `account`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "account")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Unique email address.
        #[sea_orm(unique)]
        pub email: String,
        /// Display name.
        pub name: Option<String>,
        /// Argon2id PHC string.
        pub password_hash: String,
        /// Admins see and manage every project.
        pub is_admin: bool,
        /// Creation time.
        pub created_at: i64,
        /// A deactivated account cannot sign in, and its sessions and tokens stop
        /// working; its history stays.
        pub active: bool,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which accounts belong to which projects.
pub mod membership {
    use sea_orm::entity::prelude::*;

    /// A row of `membership`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "membership")]
    pub struct Model {
        /// The project.
        #[sea_orm(primary_key, auto_increment = false)]
        pub project_id: i64,
        /// The account.
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_id: i64,
        /// What the account may do in the project.
        pub role: super::ProjectRole,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// API tokens; only their SHA-256 is stored.
pub mod api_token {
    use sea_orm::entity::prelude::*;

    /// A row of `api_token`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_token")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The account it acts for.
        pub account_id: i64,
        /// Hex SHA-256 of the token.
        #[sea_orm(unique)]
        pub token_hash: String,
        /// Creation time.
        pub created_at: i64,
        /// What its owner called it (where it is used).
        pub name: String,
        /// When it last authenticated a request (to the minute).
        pub last_used_at: Option<i64>,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Issues: groups of events with one fingerprint.
pub mod issue {
    use sea_orm::entity::prelude::*;

    /// A row of `issue`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "issue")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// Grouping fingerprint, unique per project.
        pub fingerprint: String,
        /// `Type: value` or the message.
        pub title: String,
        /// Top in-app frame, or the route.
        pub culprit: Option<String>,
        /// Level of the latest event.
        pub level: super::EventLevel,
        /// Open, resolved or ignored.
        pub status: super::IssueStatus,
        /// First event's time.
        pub first_seen: i64,
        /// Latest event's time.
        pub last_seen: i64,
        /// Events seen, including those retention removed.
        pub event_count: i64,
        /// Distinct affected users.
        pub user_count: i64,
        /// Release of the first event.
        pub first_release: Option<String>,
        /// Release of the latest event.
        pub last_release: Option<String>,
        /// Environment of the latest event.
        pub last_environment: Option<String>,
        /// Times a resolved issue was seen again.
        pub regression_count: i64,
        /// When it last regressed.
        pub last_regressed_at: Option<i64>,
        /// When it was resolved, while resolved.
        pub resolved_at: Option<i64>,
        /// When a notification about it was last queued.
        pub last_notified_at: Option<i64>,
        /// Ignored until this time (ms), then back by itself.
        pub snooze_until: Option<i64>,
        /// Ignored until its event count reaches this.
        pub snooze_events: Option<i64>,
        /// Ignored until its user count reaches this.
        pub snooze_users: Option<i64>,
        /// Resolved "in the next release": events of this release (or an older one) do
        /// not reopen it.
        pub resolved_in_release: Option<String>,
        /// The issue's latest release when it was last resolved (kept when it
        /// regresses: "regressed in 2.4.1 after being resolved in 2.4.0").
        pub resolved_release: Option<String>,
        /// The issue this one was merged into (then it is hidden, its events there).
        pub merged_into: Option<i64>,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Events, with their full payload compressed.
pub mod event {
    use sea_orm::entity::prelude::*;

    /// A row of `event`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "event")]
    pub struct Model {
        /// Id (storage order).
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The issue.
        pub issue_id: i64,
        /// The sender's event id, 32 hex digits.
        pub event_id: String,
        /// When the collector received it.
        pub received_at: i64,
        /// When it happened, per the sender.
        pub timestamp: i64,
        /// Level.
        pub level: super::EventLevel,
        /// Environment.
        pub environment: Option<String>,
        /// Release.
        pub release: Option<String>,
        /// Affected user's key (`id:…`, `email:…`, `username:…`, `ip:…`).
        pub user_key: Option<String>,
        /// The event's JSON, zstd-compressed.
        pub payload: Vec<u8>,
        /// The issue it was grouped into, when that issue has since been merged into
        /// the one it belongs to now (so that unmerging moves it back).
        pub grouped_as: Option<i64>,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The people an issue affected, with what the events said about them.
pub mod affected_user {
    use sea_orm::entity::prelude::*;

    /// A row of `affected_user`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "affected_user")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The issue.
        pub issue_id: i64,
        /// Identity used to count distinct users.
        pub user_key: String,
        /// The app's user id.
        pub user_id: Option<String>,
        /// Email address.
        pub email: Option<String>,
        /// Username.
        pub username: Option<String>,
        /// Full name.
        pub name: Option<String>,
        /// IP address, when the app sent one.
        pub ip_address: Option<String>,
        /// Events of this issue this user hit.
        pub event_count: i64,
        /// First time.
        pub first_seen: i64,
        /// Latest time.
        pub last_seen: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who gets a project's notification emails.
pub mod recipient {
    use sea_orm::entity::prelude::*;

    /// A row of `recipient`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "recipient")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// Email address.
        pub email: String,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// URLs a project's notifications are posted to.
pub mod webhook {
    use sea_orm::entity::prelude::*;

    /// A row of `webhook`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// Where to POST.
        pub url: String,
        /// HMAC-SHA256 key for the signature header.
        pub secret: String,
        /// Creation time.
        pub created_at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The notification outbox: written with the event, delivered by a worker.
pub mod outbox {
    use sea_orm::entity::prelude::*;

    /// A row of `outbox`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The issue (none for a monitor's notification).
        pub issue_id: Option<i64>,
        /// The event row (`event.id`) that triggered it.
        pub event_row_id: Option<i64>,
        /// The monitor, for a monitor's notification.
        pub monitor_id: Option<i64>,
        /// What a monitor's notification says, as JSON written when its state changed.
        pub detail: Option<String>,
        /// The message to an affected user it delivers (channel `email`, to that user).
        pub outreach_id: Option<i64>,
        /// Why it was queued.
        pub kind: super::NotificationKind,
        /// Where it goes.
        pub channel: super::Channel,
        /// The webhook, for channel `webhook`.
        pub webhook_id: Option<i64>,
        /// Where it is in its delivery.
        pub status: super::DeliveryStatus,
        /// Delivery attempts so far.
        pub attempts: i64,
        /// Not before this time.
        pub next_attempt_at: i64,
        /// A worker holds it until this time.
        pub claimed_until: Option<i64>,
        /// The last delivery error.
        pub last_error: Option<String>,
        /// Creation time.
        pub created_at: i64,
        /// Delivery time.
        pub sent_at: Option<i64>,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What an audit log entry records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A DSN key was created.
    #[sea_orm(string_value = "key_created")]
    KeyCreated,
    /// A DSN key was disabled.
    #[sea_orm(string_value = "key_disabled")]
    KeyDisabled,
    /// A DSN key was enabled again.
    #[sea_orm(string_value = "key_enabled")]
    KeyEnabled,
    /// A notification recipient was added.
    #[sea_orm(string_value = "recipient_added")]
    RecipientAdded,
    /// A notification recipient was removed.
    #[sea_orm(string_value = "recipient_removed")]
    RecipientRemoved,
    /// A webhook was added.
    #[sea_orm(string_value = "webhook_added")]
    WebhookAdded,
    /// A webhook was removed.
    #[sea_orm(string_value = "webhook_removed")]
    WebhookRemoved,
    /// A monitor was created.
    #[sea_orm(string_value = "monitor_added")]
    MonitorAdded,
    /// A monitor's settings changed, or it was paused or resumed.
    #[sea_orm(string_value = "monitor_changed")]
    MonitorChanged,
    /// A monitor was removed.
    #[sea_orm(string_value = "monitor_removed")]
    MonitorRemoved,
    /// Affected users were written to (the target names the issue and how many).
    #[sea_orm(string_value = "outreach_sent")]
    OutreachSent,
    /// The affected users are to be told when the fix is live.
    #[sea_orm(string_value = "fix_follow_up_requested")]
    FixFollowUpRequested,
    /// Outreach settings or templates changed.
    #[sea_orm(string_value = "outreach_settings_changed")]
    OutreachSettingsChanged,
    /// Rate limit or spike settings changed.
    #[sea_orm(string_value = "limits_changed")]
    LimitsChanged,
    /// Retention changed.
    #[sea_orm(string_value = "retention_changed")]
    RetentionChanged,
    /// A member was added or their role changed.
    #[sea_orm(string_value = "member_added")]
    MemberAdded,
    /// A member was removed.
    #[sea_orm(string_value = "member_removed")]
    MemberRemoved,
    /// An issue's status changed.
    #[sea_orm(string_value = "status_changed")]
    StatusChanged,
    /// Issues were merged into another.
    #[sea_orm(string_value = "issues_merged")]
    IssuesMerged,
    /// A merged issue was taken out again.
    #[sea_orm(string_value = "issue_unmerged")]
    IssueUnmerged,
}

/// A merged issue's fingerprint, pointing at the issue it was merged into: new events
/// with that fingerprint join the target.
pub mod issue_alias {
    use sea_orm::entity::prelude::*;

    /// A row of `issue_alias`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "issue_alias")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The merged issue's fingerprint.
        pub fingerprint: String,
        /// The merged issue.
        pub source_issue_id: i64,
        /// The issue it was merged into.
        pub target_issue_id: i64,
        /// That issue's fingerprint (what ingest groups these events under).
        pub target_fingerprint: String,
        /// Events that joined the target through this alias since the merge.
        pub events_added: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a filter value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum FilterKind {
    /// An event's environment.
    #[sea_orm(string_value = "environment")]
    Environment,
    /// An event's release.
    #[sea_orm(string_value = "release")]
    Release,
}

/// The environments and releases a project's events came with, for the issue list's
/// selects; written at ingest.
pub mod filter_value {
    use sea_orm::entity::prelude::*;

    /// A row of `filter_value`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "filter_value")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// Environment or release.
        pub kind: super::FilterKind,
        /// The value.
        pub value: String,
        /// When an event last came with it (ms).
        pub last_seen: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A tag value (or the message, under `message`) of an issue's events, for search.
pub mod issue_tag {
    use sea_orm::entity::prelude::*;

    /// A row of `issue_tag`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "issue_tag")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The issue.
        pub issue_id: i64,
        /// The tag's key (`message` for the message).
        pub key: String,
        /// Its value.
        pub value: String,
        /// When an event last carried it (ms; retention forgets older ones).
        pub last_seen: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A team member's comment on an issue.
pub mod issue_comment {
    use sea_orm::entity::prelude::*;

    /// A row of `issue_comment`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "issue_comment")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The issue.
        pub issue_id: i64,
        /// Who wrote it (their email at the time).
        pub author: String,
        /// What they wrote.
        pub body: String,
        /// When (ms).
        pub at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Who changed what in a project, and when.
pub mod audit_entry {
    use sea_orm::entity::prelude::*;

    /// A row of `audit_entry`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entry")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project changed.
        pub project_id: i64,
        /// Who changed it (their email at the time; `cli` from the command line).
        pub actor: String,
        /// What was done.
        pub action: super::AuditAction,
        /// What it was done to: a key id, an email, a URL, an issue id, a setting.
        pub target: String,
        /// When.
        pub at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Signed-in browser sessions; only the token's SHA-256 is stored.
pub mod web_session {
    use sea_orm::entity::prelude::*;

    /// A row of `web_session`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "web_session")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Hex SHA-256 of the cookie's token.
        #[sea_orm(unique)]
        pub token_hash: String,
        /// The signed-in account.
        pub account_id: i64,
        /// The token forms must carry.
        pub csrf_token: String,
        /// Creation time.
        pub created_at: i64,
        /// Expiry time.
        pub expires_at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod monitor {
    use sea_orm::entity::prelude::*;

    /// A row of `monitor`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "monitor")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// Unique within the project; what check-ins name.
        pub slug: String,
        /// Shown in lists and notifications.
        pub name: String,
        /// What it watches.
        pub kind: super::MonitorKind,
        /// Where it stands.
        pub status: super::MonitorStatus,
        /// Not checked while paused.
        pub paused: bool,
        /// Its settings as JSON (`monitors::MonitorSpec`).
        pub config: String,
        /// The environment of the last check-in.
        pub environment: Option<String>,
        /// Failed check-ins or checks in a row.
        pub consecutive_failures: i64,
        /// Successful check-ins or checks in a row.
        pub consecutive_ok: i64,
        /// When the scheduler acts next: a missed check-in's deadline, the next check.
        pub next_due_at: Option<i64>,
        /// The last check-in or check.
        pub last_check_at: Option<i64>,
        /// When the status last changed.
        pub state_since: i64,
        /// When the site's TLS certificate expires.
        pub cert_expires_at: Option<i64>,
        /// When the team was told the certificate expires soon.
        pub cert_warned_at: Option<i64>,
        /// Creation time.
        pub created_at: i64,
        /// Last settings change.
        pub updated_at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod monitor_checkin {
    use sea_orm::entity::prelude::*;

    /// A row of `monitor_checkin`: one check-in, check or sitemap run.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "monitor_checkin")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The monitor.
        pub monitor_id: i64,
        /// The SDK's id, tying `in_progress` to its end.
        pub check_in_id: Option<String>,
        /// How it went.
        pub status: super::CheckOutcome,
        /// The job's environment.
        pub environment: Option<String>,
        /// When it started (a missed check-in: when it was expected).
        pub started_at: i64,
        /// When it ended.
        pub finished_at: Option<i64>,
        /// How long it took.
        pub duration_ms: Option<i64>,
        /// When an `in_progress` run times out.
        pub timeout_at: Option<i64>,
        /// The HTTP status answered (uptime checks).
        pub http_status: Option<i64>,
        /// What failed, in words.
        pub error: Option<String>,
        /// A sitemap run's summary as JSON.
        pub summary: Option<String>,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a message to an affected user is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum OutreachKind {
    /// Written by the team from the issue page or the API.
    #[sea_orm(string_value = "personal")]
    Personal,
    /// The "it's fixed" follow-up, sent when the fix is live.
    #[sea_orm(string_value = "fixed")]
    Fixed,
}

pub mod outreach_message {
    use sea_orm::entity::prelude::*;

    /// A row of `outreach_message`: one email to one affected user about one issue.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outreach_message")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The issue.
        pub issue_id: i64,
        /// The user (`affected_user.user_key`).
        pub user_key: String,
        /// Their address.
        pub email: String,
        /// Their name.
        pub name: Option<String>,
        /// Personal or the fixed follow-up.
        pub kind: super::OutreachKind,
        /// The subject, placeholders filled in.
        pub subject: String,
        /// The text, placeholders filled in.
        pub body: String,
        /// Who sent it (an account's email, or `collector` for a follow-up).
        pub sent_by: String,
        /// The unguessable part of its unsubscribe link.
        pub unsubscribe_token: String,
        /// When it was queued.
        pub created_at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod do_not_contact {
    use sea_orm::entity::prelude::*;

    /// A row of `do_not_contact`: an address that unsubscribed from a project's messages.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "do_not_contact")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The address, lower-cased.
        pub email: String,
        /// When.
        pub created_at: i64,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outreach_fix {
    use sea_orm::entity::prelude::*;

    /// A row of `outreach_fix`: an issue's affected users are to hear when its fix is
    /// live.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outreach_fix")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The project.
        pub project_id: i64,
        /// The issue.
        pub issue_id: i64,
        /// The fix is live when a release newer than this one reports (none: only the
        /// "fix is live" button says so).
        pub after_release: Option<String>,
        /// ... from this environment (any when none).
        pub environment: Option<String>,
        /// Who asked.
        pub requested_by: String,
        /// When.
        pub requested_at: i64,
        /// When the fix was seen live and the follow-ups queued.
        pub live_at: Option<i64>,
    }

    /// No navigable relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
