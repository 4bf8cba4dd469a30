//! Comments on issues: what the team knows about a problem, in the issue's history
//! beside its status changes.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::issue_comment;
use super::{Store, StoreError, now_ms};

impl Store {
    /// Adds `author`'s comment to an issue.
    pub async fn add_comment(
        &self,
        project_id: i64,
        issue_id: i64,
        author: &str,
        body: &str,
    ) -> Result<issue_comment::Model, StoreError> {
        self.write(async |txn| {
            Ok(issue_comment::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                issue_id: Set(issue_id),
                author: Set(author.to_owned()),
                body: Set(body.to_owned()),
                at: Set(now_ms()),
            }
            .insert(txn)
            .await?)
        })
        .await
    }

    /// An issue's comments, oldest first.
    pub async fn comments(&self, issue_id: i64) -> Result<Vec<issue_comment::Model>, StoreError> {
        Ok(issue_comment::Entity::find()
            .filter(issue_comment::Column::IssueId.eq(issue_id))
            .order_by_asc(issue_comment::Column::Id)
            .limit(500)
            .all(self.db())
            .await?)
    }
}
