//! Browser sessions and the lookups the web UI needs.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};

use super::entities::{account, event, issue, project, web_session};
use super::{Store, StoreError, decode_payload, now_ms};

/// A project's numbers for the projects page.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectSummary {
    /// Unresolved issues.
    pub unresolved_issues: u64,
    /// Events received in the last 24 hours.
    pub events_last_day: u64,
}

impl Store {
    /// Unresolved issues and events of the last day of a project.
    pub async fn project_summary(&self, project_id: i64) -> Result<ProjectSummary, StoreError> {
        let unresolved_issues = issue::Entity::find()
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::Status.eq("unresolved"))
            .count(self.db())
            .await?;
        let events_last_day = event::Entity::find()
            .filter(event::Column::ProjectId.eq(project_id))
            .filter(event::Column::ReceivedAt.gte(now_ms() - 86_400_000))
            .count(self.db())
            .await?;
        Ok(ProjectSummary {
            unresolved_issues,
            events_last_day,
        })
    }

    /// Starts a session for `account_id`, stored by `token_hash`, valid for `ttl_ms`.
    pub async fn create_session(
        &self,
        account_id: i64,
        token_hash: &str,
        csrf_token: &str,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        web_session::ActiveModel {
            id: NotSet,
            token_hash: Set(token_hash.to_owned()),
            account_id: Set(account_id),
            csrf_token: Set(csrf_token.to_owned()),
            created_at: Set(now),
            expires_at: Set(now + ttl_ms),
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// The live session stored by `token_hash`, with its account.
    pub async fn session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(web_session::Model, account::Model)>, StoreError> {
        let Some(session) = web_session::Entity::find()
            .filter(web_session::Column::TokenHash.eq(token_hash))
            .filter(web_session::Column::ExpiresAt.gt(now_ms()))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let account = account::Entity::find_by_id(session.account_id)
            .one(self.db())
            .await?;
        Ok(account.map(|account| (session, account)))
    }

    /// Ends the session stored by `token_hash`.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        web_session::Entity::delete_many()
            .filter(web_session::Column::TokenHash.eq(token_hash))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// A project by id.
    pub async fn project(&self, project_id: i64) -> Result<Option<project::Model>, StoreError> {
        Ok(project::Entity::find_by_id(project_id)
            .one(self.db())
            .await?)
    }

    /// One stored event of an issue, by its event id, with its payload.
    pub async fn event_of_issue(
        &self,
        issue_id: i64,
        event_id: &str,
    ) -> Result<Option<(event::Model, serde_json::Value)>, StoreError> {
        let Some(row) = event::Entity::find()
            .filter(event::Column::IssueId.eq(issue_id))
            .filter(event::Column::EventId.eq(event_id))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let payload = decode_payload(&row.payload)?;
        Ok(Some((row, payload)))
    }
}

/// The UTC day number of an event's receive time.
const DAY: &str = "received_at / 86400000";

/// Links from one event to its neighbours in the same issue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLinks {
    /// The next newer event's id.
    pub newer: Option<String>,
    /// The next older event's id.
    pub older: Option<String>,
    /// The oldest stored event's id.
    pub first: Option<String>,
    /// The newest stored event's id.
    pub latest: Option<String>,
}

impl Store {
    /// The neighbours of event row `event_row_id` in issue `issue_id`.
    pub async fn event_links(
        &self,
        issue_id: i64,
        event_row_id: i64,
    ) -> Result<EventLinks, StoreError> {
        use sea_orm::{QueryOrder, QuerySelect};
        let id_of = |query: sea_orm::Select<event::Entity>| async move {
            query
                .select_only()
                .column(event::Column::EventId)
                .limit(1)
                .into_tuple::<String>()
                .one(self.db())
                .await
        };
        let of_issue = || event::Entity::find().filter(event::Column::IssueId.eq(issue_id));
        Ok(EventLinks {
            newer: id_of(
                of_issue()
                    .filter(event::Column::Id.gt(event_row_id))
                    .order_by_asc(event::Column::Id),
            )
            .await?,
            older: id_of(
                of_issue()
                    .filter(event::Column::Id.lt(event_row_id))
                    .order_by_desc(event::Column::Id),
            )
            .await?,
            first: id_of(of_issue().order_by_asc(event::Column::Id)).await?,
            latest: id_of(of_issue().order_by_desc(event::Column::Id)).await?,
        })
    }

    /// Events per day (UTC) of each issue over the last `days` days, oldest day first.
    pub async fn daily_counts(
        &self,
        issue_ids: &[i64],
        days: i64,
    ) -> Result<std::collections::HashMap<i64, Vec<u64>>, StoreError> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::Expr;
        let today = now_ms().div_euclid(86_400_000);
        let start = today - days + 1;
        let rows: Vec<(i64, i64, i64)> = event::Entity::find()
            .select_only()
            .column(event::Column::IssueId)
            // A literal (not a bound parameter), so that PostgreSQL sees the same
            // expression in SELECT and GROUP BY.
            .column_as(Expr::cust(DAY), "day")
            .column_as(Expr::col(event::Column::Id).count(), "events")
            .filter(event::Column::IssueId.is_in(issue_ids.iter().copied()))
            .filter(event::Column::ReceivedAt.gte(start * 86_400_000))
            .group_by(event::Column::IssueId)
            .group_by(Expr::cust(DAY))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut counts: std::collections::HashMap<i64, Vec<u64>> = issue_ids
            .iter()
            .map(|id| (*id, vec![0; usize::try_from(days).unwrap_or(0)]))
            .collect();
        for (issue_id, day, events) in rows {
            if let (Some(bars), Ok(slot)) =
                (counts.get_mut(&issue_id), usize::try_from(day - start))
            {
                if let Some(bar) = bars.get_mut(slot) {
                    *bar = u64::try_from(events).unwrap_or(0);
                }
            }
        }
        Ok(counts)
    }

    /// Stored events of an issue by release and by environment, most first.
    #[allow(clippy::type_complexity)]
    pub async fn breakdown(
        &self,
        issue_id: i64,
    ) -> Result<(Vec<(Option<String>, i64)>, Vec<(Option<String>, i64)>), StoreError> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::Expr;
        let mut out = Vec::new();
        for column in [event::Column::Release, event::Column::Environment] {
            let mut rows: Vec<(Option<String>, i64)> = event::Entity::find()
                .select_only()
                .column(column)
                .column_as(Expr::col(event::Column::Id).count(), "events")
                .filter(event::Column::IssueId.eq(issue_id))
                .group_by(column)
                .into_tuple()
                .all(self.db())
                .await?;
            rows.sort_by_key(|row| std::cmp::Reverse(row.1));
            out.push(rows);
        }
        let environments = out.pop().unwrap_or_default();
        let releases = out.pop().unwrap_or_default();
        Ok((releases, environments))
    }
}

impl Store {
    /// A project's keys, oldest first.
    pub async fn project_keys(
        &self,
        project_id: i64,
    ) -> Result<Vec<super::entities::project_key::Model>, StoreError> {
        use super::entities::project_key;
        use sea_orm::QueryOrder;
        Ok(project_key::Entity::find()
            .filter(project_key::Column::ProjectId.eq(project_id))
            .order_by_asc(project_key::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Adds a key to a project.
    pub async fn create_key(&self, project_id: i64) -> Result<(), StoreError> {
        use super::entities::project_key;
        project_key::ActiveModel {
            id: NotSet,
            project_id: Set(project_id),
            public_key: Set(super::random_hex(1)),
            active: Set(true),
            created_at: Set(now_ms()),
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// Enables or disables a key of a project.
    pub async fn set_key_active(
        &self,
        project_id: i64,
        key_id: i64,
        active: bool,
    ) -> Result<(), StoreError> {
        use super::entities::project_key;
        let key = project_key::Entity::find_by_id(key_id)
            .filter(project_key::Column::ProjectId.eq(project_id))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("key {key_id}")))?;
        let mut key: project_key::ActiveModel = key.into();
        key.active = Set(active);
        key.update(self.db()).await?;
        Ok(())
    }

    /// Sets a project's events-per-minute limit per key, by id (0: the default).
    pub async fn set_rate_limit_of(
        &self,
        project_id: i64,
        per_minute: i64,
    ) -> Result<(), StoreError> {
        let project = self
            .project(project_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
        let mut project: project::ActiveModel = project.into();
        project.rate_limit_per_minute = Set(per_minute.max(0));
        project.update(self.db()).await?;
        Ok(())
    }

    /// Every account, by email.
    pub async fn accounts(&self) -> Result<Vec<account::Model>, StoreError> {
        use sea_orm::QueryOrder;
        Ok(account::Entity::find()
            .order_by_asc(account::Column::Email)
            .all(self.db())
            .await?)
    }
}
