//! The notification outbox: written with the event, delivered by a worker.

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
    /// The alert rule that queued it, if one did.
    pub rule_id: Option<i64>,
    /// The rule's action it carries out (JSON, `alerts::rule::Action`), as the rule
    /// said when the alert fired.
    pub action: Option<String>,
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
