//! Feedback: stored as it came, found for an issue through the events it names (so a
//! merge or a regrouping carries it along, and feedback that arrived before its event
//! joins the issue when the event does).

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{FeedbackSource, event, feedback};
use super::{Store, StoreError, now_ms};

/// Feedback to store (already checked and capped).
#[derive(Debug, Clone, Default)]
pub struct NewFeedback {
    /// The event it is about (32 hex digits).
    pub event_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub message: String,
    pub url: Option<String>,
}

impl Store {
    /// Stores `new` for `project_id`.
    pub async fn add_feedback(
        &self,
        project_id: i64,
        source: FeedbackSource,
        new: NewFeedback,
    ) -> Result<feedback::Model, StoreError> {
        self.write(async |txn| {
            Ok(feedback::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                event_id: Set(new.event_id.clone()),
                name: Set(new.name.clone()),
                email: Set(new.email.clone()),
                message: Set(new.message.clone()),
                url: Set(new.url.clone()),
                source: Set(source),
                created_at: Set(now_ms()),
            }
            .insert(txn)
            .await?)
        })
        .await
    }

    /// The feedback about events of issue `issue_id` of `project_id`, newest first.
    pub async fn issue_feedback(
        &self,
        project_id: i64,
        issue_id: i64,
        limit: u64,
    ) -> Result<Vec<feedback::Model>, StoreError> {
        Ok(feedback::Entity::find()
            .filter(feedback::Column::ProjectId.eq(project_id))
            .filter(
                feedback::Column::EventId.in_subquery(
                    Query::select()
                        .column(event::Column::EventId)
                        .from(event::Entity)
                        .and_where(event::Column::ProjectId.eq(project_id))
                        .and_where(event::Column::IssueId.eq(issue_id))
                        .to_owned(),
                ),
            )
            .order_by_desc(feedback::Column::CreatedAt)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// A project's feedback, newest first, each with the issue of its event when that
    /// event is stored.
    pub async fn project_feedback(
        &self,
        project_id: i64,
        limit: u64,
    ) -> Result<Vec<(feedback::Model, Option<i64>)>, StoreError> {
        let rows = feedback::Entity::find()
            .filter(feedback::Column::ProjectId.eq(project_id))
            .order_by_desc(feedback::Column::CreatedAt)
            .limit(limit)
            .all(self.db())
            .await?;
        let ids: Vec<String> = rows.iter().filter_map(|f| f.event_id.clone()).collect();
        let issues: HashMap<String, i64> = if ids.is_empty() {
            HashMap::new()
        } else {
            event::Entity::find()
                .select_only()
                .column(event::Column::EventId)
                .column(event::Column::IssueId)
                .filter(event::Column::ProjectId.eq(project_id))
                .filter(event::Column::EventId.is_in(ids))
                .into_tuple::<(String, i64)>()
                .all(self.db())
                .await?
                .into_iter()
                .collect()
        };
        Ok(rows
            .into_iter()
            .map(|f| {
                let issue = f.event_id.as_ref().and_then(|id| issues.get(id).copied());
                (f, issue)
            })
            .collect())
    }

    /// Which of `issue_ids` (of `project_id`) have feedback.
    pub async fn issues_with_feedback(
        &self,
        project_id: i64,
        issue_ids: &[i64],
    ) -> Result<HashSet<i64>, StoreError> {
        if issue_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let found = event::Entity::find()
            .select_only()
            .column(event::Column::IssueId)
            .distinct()
            .filter(event::Column::ProjectId.eq(project_id))
            .filter(event::Column::IssueId.is_in(issue_ids.iter().copied()))
            .filter(
                event::Column::EventId.in_subquery(
                    Query::select()
                        .column(feedback::Column::EventId)
                        .from(feedback::Entity)
                        .and_where(feedback::Column::ProjectId.eq(project_id))
                        .to_owned(),
                ),
            )
            .into_tuple::<i64>()
            .all(self.db())
            .await?;
        Ok(found.into_iter().collect())
    }
}
