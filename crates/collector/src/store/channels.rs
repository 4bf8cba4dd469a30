//! Where a project's notifications go: email recipients and webhooks.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};

use super::entities::{recipient, webhook};
use super::{Store, StoreError, now_ms};

impl Store {
    /// Adds an email recipient to a project (no-op if present).
    pub async fn add_recipient(&self, project_id: i64, email: &str) -> Result<(), StoreError> {
        self.write(async |txn| {
            let email = email.trim().to_lowercase();
            let exists = recipient::Entity::find()
                .filter(recipient::Column::ProjectId.eq(project_id))
                .filter(recipient::Column::Email.eq(email.as_str()))
                .one(txn)
                .await?
                .is_some();
            if !exists {
                recipient::ActiveModel {
                    id: NotSet,
                    project_id: Set(project_id),
                    email: Set(email),
                }
                .insert(txn)
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// Removes a recipient; returns whether it was there.
    pub async fn remove_recipient(&self, project_id: i64, email: &str) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let result = recipient::Entity::delete_many()
                .filter(recipient::Column::ProjectId.eq(project_id))
                .filter(recipient::Column::Email.eq(email.trim().to_lowercase()))
                .exec(txn)
                .await?;
            Ok(result.rows_affected > 0)
        })
        .await
    }

    /// A project's recipients, alphabetically.
    pub async fn recipients(&self, project_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(recipient::Entity::find()
            .filter(recipient::Column::ProjectId.eq(project_id))
            .order_by_asc(recipient::Column::Email)
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| r.email)
            .collect())
    }

    /// Adds a webhook.
    pub async fn add_webhook(
        &self,
        project_id: i64,
        url: &str,
        secret: &str,
    ) -> Result<webhook::Model, StoreError> {
        self.write(async |txn| {
            Ok(webhook::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                url: Set(url.to_owned()),
                secret: Set(secret.to_owned()),
                created_at: Set(now_ms()),
            }
            .insert(txn)
            .await?)
        })
        .await
    }

    /// Removes a webhook of a project; returns whether it was there.
    pub async fn remove_webhook(
        &self,
        project_id: i64,
        webhook_id: i64,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let result = webhook::Entity::delete_many()
                .filter(webhook::Column::ProjectId.eq(project_id))
                .filter(webhook::Column::Id.eq(webhook_id))
                .exec(txn)
                .await?;
            Ok(result.rows_affected > 0)
        })
        .await
    }

    /// A project's webhooks.
    pub async fn webhooks(&self, project_id: i64) -> Result<Vec<webhook::Model>, StoreError> {
        Ok(webhook::Entity::find()
            .filter(webhook::Column::ProjectId.eq(project_id))
            .order_by_asc(webhook::Column::Id)
            .all(self.db())
            .await?)
    }
}
