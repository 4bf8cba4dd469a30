//! A monitor's results: each check-in of a cron job, each uptime check, each sitemap run.

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
