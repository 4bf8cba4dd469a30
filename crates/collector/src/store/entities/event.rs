//! Events, with their full payload compressed.

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
