//! Feedback: stored as it came, found for an issue through the events it names (so a
//! merge or a regrouping carries it along, and feedback that arrived before its event
//! joins the issue when the event does).

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{FeedbackSource, event, feedback};
use super::outbox::Target;
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

    /// Tells the team that someone wrote `said`, when its event is stored: to the
    /// destinations of the project's alert rules (each once), else to its recipients
    /// and webhooks. Returns the deliveries queued.
    pub async fn notify_feedback(&self, said: &feedback::Model) -> Result<usize, StoreError> {
        let Some(event_id) = &said.event_id else {
            return Ok(0);
        };
        let found = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .column(event::Column::IssueId)
            .filter(event::Column::ProjectId.eq(said.project_id))
            .filter(event::Column::EventId.eq(event_id.as_str()))
            .into_tuple::<(i64, i64)>()
            .one(self.db())
            .await?;
        let Some((event_row_id, issue_id)) = found else {
            return Ok(0);
        };
        let mut targets: Vec<Target> = Vec::new();
        for row in self.alert_rules(said.project_id).await? {
            let Ok(spec) = crate::alerts::rule::RuleSpec::from_row(&row) else {
                continue;
            };
            for target in super::ingest::rule_targets(&spec.actions) {
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
        if targets.is_empty() {
            targets = vec![Target::Recipients, Target::Webhooks];
        }
        let detail = serde_json::json!({
            "name": said.name,
            "email": said.email,
            "message": said.message,
        })
        .to_string();
        self.queue_feedback_notice(said.project_id, issue_id, event_row_id, &detail, &targets)
            .await
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
