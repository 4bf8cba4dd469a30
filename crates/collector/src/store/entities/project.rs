//! A project: one app or service, with its keys and issues.

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
    /// The name customers know the app by (messages to them, the unsubscribe page);
    /// the project's name when unset.
    pub sender_name: Option<String>,
    /// What each page is in customers' words, a line each: `POST /checkout = checking
    /// out` (see `outreach::doing`).
    pub route_names: Option<String>,
    /// Ownership rules, one per line (`path:src/billing/* jane@example.com`).
    pub ownership_rules: Option<String>,
    /// The "new ticket" URL, with `{title}`, `{body}` and `{url}` placeholders.
    pub ticket_template: Option<String>,
    /// Where an in-app frame's line is in the repository: `{commit}`, `{path}` and
    /// `{line}` placeholders.
    pub source_link_template: Option<String>,
}

/// No navigable relations; queries join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
