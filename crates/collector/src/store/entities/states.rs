//! The states stored in the tables: enums stored as their lowercase names, with
//! `Display` and `FromStr` by those names for JSON, forms and URLs.

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

impl From<EventLevel> for mayday_protocol::Level {
    fn from(level: EventLevel) -> Self {
        match level {
            EventLevel::Fatal => mayday_protocol::Level::Fatal,
            EventLevel::Error => mayday_protocol::Level::Error,
            EventLevel::Warning => mayday_protocol::Level::Warning,
            EventLevel::Info => mayday_protocol::Level::Info,
            EventLevel::Debug => mayday_protocol::Level::Debug,
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
    /// An ignored issue came back: the condition it was ignored under ran out.
    #[sea_orm(string_value = "reappeared")]
    Reappeared,
    /// An issue was seen by more distinct users in a while than an alert rule allows.
    #[sea_orm(string_value = "user_frequency")]
    UserFrequency,
    /// An issue an alert was raised for was resolved (PagerDuty's `resolve`).
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// An issue was assigned to someone by someone else (an email to them).
    #[sea_orm(string_value = "assigned")]
    Assigned,
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
    /// Someone an issue hit wrote about it (the row's `detail` holds their words).
    #[sea_orm(string_value = "feedback")]
    Feedback,
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
    /// A Slack incoming webhook.
    #[sea_orm(string_value = "slack")]
    Slack,
    /// A Discord webhook.
    #[sea_orm(string_value = "discord")]
    Discord,
    /// A Microsoft Teams workflow webhook (an Adaptive Card).
    #[sea_orm(string_value = "teams")]
    Teams,
    /// A Google Chat space's webhook.
    #[sea_orm(string_value = "google_chat")]
    #[serde(rename = "google_chat")]
    GoogleChat,
    /// A Mattermost incoming webhook.
    #[sea_orm(string_value = "mattermost")]
    Mattermost,
    /// An ntfy topic.
    #[sea_orm(string_value = "ntfy")]
    Ntfy,
    /// PagerDuty's Events API v2.
    #[sea_orm(string_value = "pagerduty")]
    Pagerduty,
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

/// What a debug file holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum DebugFileKind {
    /// An ELF file with debug info or a symbol table: names frames.
    #[sea_orm(string_value = "elf")]
    Elf,
    /// A source bundle (`--include-sources`): the source lines around named frames.
    #[sea_orm(string_value = "sources")]
    Sources,
}

/// How long a release-health bucket is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum BucketSpan {
    /// A minute: the last day.
    #[sea_orm(string_value = "minute")]
    Minute,
    /// An hour: older buckets, rolled up.
    #[sea_orm(string_value = "hour")]
    Hour,
}

/// How feedback came.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum FeedbackSource {
    /// A `user_report` envelope item (older SDKs, the reporter's `capture_feedback`).
    #[sea_orm(string_value = "user_report")]
    UserReport,
    /// A `feedback` event (`contexts.feedback`: newer SDKs' `captureFeedback`).
    #[sea_orm(string_value = "feedback_event")]
    FeedbackEvent,
    /// The crash-report dialog (`/api/embed/error-page/`, `showReportDialog`).
    #[sea_orm(string_value = "dialog")]
    Dialog,
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
    OutreachKind,
    DebugFileKind,
    FeedbackSource,
    BucketSpan
);

/// A name that is none of a state's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?} (expected one of: {expected})")]
pub struct UnknownName {
    what: &'static str,
    name: String,
    expected: String,
}

/// What an audit log entry records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// The project was created.
    #[sea_orm(string_value = "project_created")]
    ProjectCreated,
    /// The project's name, sender name or route names changed.
    #[sea_orm(string_value = "project_changed")]
    ProjectChanged,
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
    /// An alert rule was added.
    #[sea_orm(string_value = "alert_rule_added")]
    AlertRuleAdded,
    /// An alert rule was changed.
    #[sea_orm(string_value = "alert_rule_changed")]
    AlertRuleChanged,
    /// An alert rule was removed.
    #[sea_orm(string_value = "alert_rule_removed")]
    AlertRuleRemoved,
    /// An issue was assigned (or unassigned).
    #[sea_orm(string_value = "issue_assigned")]
    IssueAssigned,
    /// The ownership rules were changed.
    #[sea_orm(string_value = "ownership_changed")]
    OwnershipChanged,
    /// The "new ticket" template was changed.
    #[sea_orm(string_value = "ticket_template_changed")]
    TicketTemplateChanged,
    /// A ticket was linked to an issue.
    #[sea_orm(string_value = "ticket_linked")]
    TicketLinked,
    /// A debug file was uploaded.
    #[sea_orm(string_value = "debug_file_uploaded")]
    DebugFileUploaded,
    /// A debug file was deleted.
    #[sea_orm(string_value = "debug_file_removed")]
    DebugFileRemoved,
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
