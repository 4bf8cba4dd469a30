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
