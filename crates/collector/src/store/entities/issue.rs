//! Issues: groups of events with one fingerprint.

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
    /// The account the issue is assigned to.
    pub assignee_id: Option<i64>,
    /// The ownership rule that assigned it, as written (`path:src/billing/* jane@…`).
    pub owner_rule: Option<String>,
    /// The ticket the team filed for it.
    pub ticket_url: Option<String>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
