//! Retention: old events go, per project and per issue; issue counts stay.
//!
//! Deletes run in bounded batches, each its own short write followed by a pause twice
//! as long: a project with a million events past its age loses them 500 at a time, and
//! ingest batches take their turns between two deletes instead of waiting for all of
//! them (docs/ingest.md has the measurement).

use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{event, feedback, issue, issue_tag, project, release_health};
use super::{Store, StoreError, now_ms};

/// Most events one delete removes: a write short enough that an ingest batch waiting for
/// the write turn behind it stays within its latency target (measured when `event` had
/// five indexes: about 40 ms on a slow 2-core machine; with three, ingest's p99 while a
/// million events are deleted is 63.5 ms on SQLite, BENCHMARKS.md).
pub const DELETE_BATCH: u64 = 500;

/// After each delete, retention waits this many times as long as the delete took, so
/// that it holds the write turn at most a third of the time while ingest runs.
const PAUSE_FACTOR: u32 = 2;

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
        for project in projects {
            let per_issue = u64::try_from(project.retention_events_per_issue)
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(default_per_issue);
            let age_ms = Some(project.retention_days)
                .filter(|d| *d > 0)
                .map_or(default_age_ms, |d| d.saturating_mul(86_400_000));
            let cutoff = now_ms() - age_ms;
            deleted += self.delete_old_events(project.id, cutoff).await?;
            deleted += self
                .write(async |txn| prune_beside_events(txn, project.id, cutoff).await)
                .await?;
            deleted += self.trim_crowded_issues(project.id, per_issue).await?;
        }
        Ok(deleted)
    }

    /// Deletes project `project_id`'s events received before `cutoff`, oldest first.
    async fn delete_old_events(&self, project_id: i64, cutoff: i64) -> Result<u64, StoreError> {
        self.delete_events_in_batches(|| {
            Query::select()
                .column(event::Column::Id)
                .from(event::Entity)
                // `project_id + 0`: walk the `received_at` index from the oldest.
                // Offered the `(project_id, event_id)` index, SQLite's planner takes it
                // and sorts every event of the project for each batch (measured: a
                // million old events took minutes instead of seconds).
                .and_where(Expr::expr(Expr::col(event::Column::ProjectId).add(0)).eq(project_id))
                .and_where(event::Column::ReceivedAt.lt(cutoff))
                .order_by(event::Column::ReceivedAt, sea_orm::Order::Asc)
                .to_owned()
        })
        .await
    }

    /// Deletes all but the newest `per_issue` events of each of project `project_id`'s
    /// issues. Only issues that counted more events than that are looked at (an issue's
    /// count never drops below what it stores).
    async fn trim_crowded_issues(
        &self,
        project_id: i64,
        per_issue: u64,
    ) -> Result<u64, StoreError> {
        let crowded: Vec<i64> = issue::Entity::find()
            .select_only()
            .column(issue::Column::Id)
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::EventCount.gt(per_issue))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut deleted = 0;
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
                .one(self.db())
                .await?;
            let Some(keep_from) = keep_from else {
                continue;
            };
            deleted += self
                .delete_events_in_batches(|| {
                    Query::select()
                        .column(event::Column::Id)
                        .from(event::Entity)
                        .and_where(event::Column::IssueId.eq(issue_id))
                        .and_where(event::Column::Id.lt(keep_from))
                        .to_owned()
                })
                .await?;
        }
        Ok(deleted)
    }

    /// Deletes the events whose ids `chosen` selects, [`DELETE_BATCH`] of them per
    /// write, until a write finds fewer. Returns how many went.
    async fn delete_events_in_batches(
        &self,
        chosen: impl Fn() -> SelectStatement,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let batch = chosen().limit(DELETE_BATCH).to_owned();
            let began = std::time::Instant::now();
            let gone = self
                .write(async |txn| {
                    Ok(event::Entity::delete_many()
                        .filter(event::Column::Id.in_subquery(batch))
                        .exec(txn)
                        .await?
                        .rows_affected)
                })
                .await?;
            deleted += gone;
            if gone < DELETE_BATCH {
                return Ok(deleted);
            }
            tokio::time::sleep(began.elapsed() * PAUSE_FACTOR).await;
        }
    }
}

/// Deletes what goes with old events: request counts, feedback, search values no event
/// within the retention carried any more. Returns the request counts and feedback rows
/// deleted.
async fn prune_beside_events(
    txn: &impl ConnectionTrait,
    project_id: i64,
    cutoff: i64,
) -> Result<u64, StoreError> {
    let mut deleted = release_health::Entity::delete_many()
        .filter(release_health::Column::ProjectId.eq(project_id))
        .filter(release_health::Column::BucketStart.lt(cutoff))
        .exec(txn)
        .await?
        .rows_affected;
    deleted += feedback::Entity::delete_many()
        .filter(feedback::Column::ProjectId.eq(project_id))
        .filter(feedback::Column::CreatedAt.lt(cutoff))
        .exec(txn)
        .await?
        .rows_affected;
    issue_tag::Entity::delete_many()
        .filter(issue_tag::Column::LastSeen.lt(cutoff))
        .filter(
            issue_tag::Column::IssueId.in_subquery(
                Query::select()
                    .column(issue::Column::Id)
                    .from(issue::Entity)
                    .and_where(issue::Column::ProjectId.eq(project_id))
                    .to_owned(),
            ),
        )
        .exec(txn)
        .await?;
    Ok(deleted)
}
