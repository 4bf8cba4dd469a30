//! Monitors: cron jobs that check in, uptime checks and sitemap runs, with their
//! settings and where each stands.

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
