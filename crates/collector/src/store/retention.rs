//! Retention: old events go, per project and per issue; issue counts stay.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{event, feedback, issue, issue_tag, project, release_health};
use super::{Store, StoreError, now_ms};

impl Store {
    /// Deletes, per project, events older than its retention and, per issue, all but
    /// the newest events it keeps. A project's own settings (non-zero) override the
    /// defaults given here. Issue counts are kept. Returns how many rows were deleted.
    pub async fn apply_retention(
        &self,
        default_per_issue: u64,
        default_age_ms: i64,
    ) -> Result<u64, StoreError> {
        let projects = project::Entity::find().all(self.db()).await?;
        let mut deleted = 0;
        // One write per project, so that ingest waits for one project's clean-up at most.
        for project in projects {
            let per_issue = u64::try_from(project.retention_events_per_issue)
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(default_per_issue);
            let age_ms = Some(project.retention_days)
                .filter(|d| *d > 0)
                .map_or(default_age_ms, |d| d.saturating_mul(86_400_000));
            deleted += self
                .write(async |txn| prune(txn, project.id, per_issue, age_ms).await)
                .await?;
        }
        Ok(deleted)
    }
}

/// Deletes project `project_id`'s events older than `age_ms`, and all but the newest
/// `per_issue` of each issue's; returns how many went.
async fn prune(
    txn: &impl ConnectionTrait,
    project_id: i64,
    per_issue: u64,
    age_ms: i64,
) -> Result<u64, StoreError> {
    let cutoff = now_ms() - age_ms;
    let mut deleted = event::Entity::delete_many()
        .filter(event::Column::ProjectId.eq(project_id))
        .filter(event::Column::ReceivedAt.lt(cutoff))
        .exec(txn)
        .await?
        .rows_affected;
    // Request counts too.
    deleted += release_health::Entity::delete_many()
        .filter(release_health::Column::ProjectId.eq(project_id))
        .filter(release_health::Column::BucketStart.lt(cutoff))
        .exec(txn)
        .await?
        .rows_affected;
    // Feedback goes with the events of its time.
    deleted += feedback::Entity::delete_many()
        .filter(feedback::Column::ProjectId.eq(project_id))
        .filter(feedback::Column::CreatedAt.lt(cutoff))
        .exec(txn)
        .await?
        .rows_affected;
    // Search values no event within the retention carried any more.
    issue_tag::Entity::delete_many()
        .filter(issue_tag::Column::LastSeen.lt(cutoff))
        .filter(
            issue_tag::Column::IssueId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(issue::Column::Id)
                    .from(issue::Entity)
                    .and_where(issue::Column::ProjectId.eq(project_id))
                    .to_owned(),
            ),
        )
        .exec(txn)
        .await?;
    let crowded: Vec<i64> = event::Entity::find()
        .select_only()
        .column(event::Column::IssueId)
        .filter(event::Column::ProjectId.eq(project_id))
        .group_by(event::Column::IssueId)
        .having(Expr::expr(Expr::col(event::Column::Id).count()).gt(per_issue))
        .into_tuple()
        .all(txn)
        .await?;
    for issue_id in crowded {
        // The id of the oldest event to keep; everything older goes.
        let keep_from: Option<i64> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .filter(event::Column::IssueId.eq(issue_id))
            .order_by_desc(event::Column::Id)
            .offset(per_issue.saturating_sub(1))
            .limit(1)
            .into_tuple()
            .one(txn)
            .await?;
        if let Some(keep_from) = keep_from {
            deleted += event::Entity::delete_many()
                .filter(event::Column::IssueId.eq(issue_id))
                .filter(event::Column::Id.lt(keep_from))
                .exec(txn)
                .await?
                .rows_affected;
        }
    }
    Ok(deleted)
}
