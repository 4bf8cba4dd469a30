//! "Tell the affected users when the fix is live": waiting for a newer release of the
//! issue's environment, then sent once.

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
