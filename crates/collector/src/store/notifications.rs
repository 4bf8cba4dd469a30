//! Notification settings (recipients, webhooks, spikes) and the outbox.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, NotSet, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};

use super::entities::{event, issue, outbox, project, recipient, webhook};
use super::{Store, StoreError, decode_payload, now_ms};

/// Everything needed to write one notification.
#[derive(Debug, Clone)]
pub struct NotificationContext {
    /// The outbox row.
    pub row: outbox::Model,
    /// The project.
    pub project: project::Model,
    /// The issue.
    pub issue: issue::Model,
    /// The event's full payload.
    pub event: serde_json::Value,
    /// Email recipients (channel `email`).
    pub recipients: Vec<String>,
    /// The webhook (channel `webhook`).
    pub webhook: Option<webhook::Model>,
}

impl Store {
    /// Adds an email recipient to a project (no-op if present).
    pub async fn add_recipient(&self, project_id: i64, email: &str) -> Result<(), StoreError> {
        let email = email.trim().to_lowercase();
        let exists = recipient::Entity::find()
            .filter(recipient::Column::ProjectId.eq(project_id))
            .filter(recipient::Column::Email.eq(email.as_str()))
            .one(self.db())
            .await?
            .is_some();
        if !exists {
            recipient::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                email: Set(email),
            }
            .insert(self.db())
            .await?;
        }
        Ok(())
    }

    /// Removes a recipient; returns whether it was there.
    pub async fn remove_recipient(&self, project_id: i64, email: &str) -> Result<bool, StoreError> {
        let result = recipient::Entity::delete_many()
            .filter(recipient::Column::ProjectId.eq(project_id))
            .filter(recipient::Column::Email.eq(email.trim().to_lowercase()))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
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
        Ok(webhook::ActiveModel {
            id: NotSet,
            project_id: Set(project_id),
            url: Set(url.to_owned()),
            secret: Set(secret.to_owned()),
            created_at: Set(now_ms()),
        }
        .insert(self.db())
        .await?)
    }

    /// Removes a webhook of a project; returns whether it was there.
    pub async fn remove_webhook(
        &self,
        project_id: i64,
        webhook_id: i64,
    ) -> Result<bool, StoreError> {
        let result = webhook::Entity::delete_many()
            .filter(webhook::Column::ProjectId.eq(project_id))
            .filter(webhook::Column::Id.eq(webhook_id))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// A project's webhooks.
    pub async fn webhooks(&self, project_id: i64) -> Result<Vec<webhook::Model>, StoreError> {
        Ok(webhook::Entity::find()
            .filter(webhook::Column::ProjectId.eq(project_id))
            .order_by_asc(webhook::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Sets spike notifications: more than `threshold` events in `minutes` (0: off).
    pub async fn set_spike(
        &self,
        project_id: i64,
        threshold: i64,
        minutes: i64,
    ) -> Result<(), StoreError> {
        let project = project::Entity::find_by_id(project_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
        let mut active: project::ActiveModel = project.into();
        active.spike_threshold = Set(threshold.max(0));
        active.spike_window_minutes = Set(minutes.max(1));
        active.update(self.db()).await?;
        Ok(())
    }

    /// A project's notifications, newest first (at most `limit`).
    pub async fn notifications(
        &self,
        project_id: i64,
        limit: u64,
    ) -> Result<Vec<outbox::Model>, StoreError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::ProjectId.eq(project_id))
            .order_by_desc(outbox::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// Claims up to `limit` due notifications for `lease_ms`, so that no other worker
    /// (in this process or another) takes them meanwhile. On PostgreSQL rows locked by
    /// another claim are skipped (`FOR UPDATE SKIP LOCKED`); SQLite serializes writers.
    pub async fn claim_notifications(
        &self,
        limit: u64,
        lease_ms: i64,
    ) -> Result<Vec<outbox::Model>, StoreError> {
        let _turn = self.write_turn().await;
        let now = now_ms();
        let backend = self.db().get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING *"
            }
            _ => {
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? \
                 AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?) \
                 RETURNING *"
            }
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let values: Vec<sea_orm::Value> = match backend {
            DbBackend::Postgres => vec![(now + lease_ms).into(), now.into(), limit.into()],
            _ => vec![
                (now + lease_ms).into(),
                now.into(),
                now.into(),
                limit.into(),
            ],
        };
        let statement = Statement::from_sql_and_values(backend, sql, values);
        Ok(outbox::Entity::find()
            .from_raw_sql(statement)
            .all(self.db())
            .await?)
    }

    /// Marks a notification delivered.
    pub async fn mark_sent(&self, id: i64) -> Result<(), StoreError> {
        self.update_outbox(id, |row| {
            row.status = Set("sent".into());
            row.sent_at = Set(Some(now_ms()));
            row.claimed_until = Set(None);
            row.last_error = Set(None);
        })
        .await
    }

    /// Records a failed attempt: retried at `retry_at`, or given up when `None`.
    pub async fn mark_attempt_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(1000).collect();
        self.update_outbox(id, move |row| {
            row.last_error = Set(Some(error));
            row.claimed_until = Set(None);
            match retry_at {
                Some(at) => row.next_attempt_at = Set(at),
                None => row.status = Set("failed".into()),
            }
        })
        .await
    }

    async fn update_outbox(
        &self,
        id: i64,
        change: impl FnOnce(&mut outbox::ActiveModel),
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let row = outbox::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("notification {id}")))?;
        let mut active: outbox::ActiveModel = row.into();
        change(&mut active);
        active.update(self.db()).await?;
        Ok(())
    }

    /// Loads what a notification talks about.
    pub async fn notification_context(
        &self,
        row: outbox::Model,
    ) -> Result<NotificationContext, StoreError> {
        let project = project::Entity::find_by_id(row.project_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {}", row.project_id)))?;
        let issue = issue::Entity::find_by_id(row.issue_id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("issue {}", row.issue_id)))?;
        // Retention may have removed the event; the notification still goes out.
        let event = match event::Entity::find_by_id(row.event_row_id)
            .one(self.db())
            .await?
        {
            Some(event) => decode_payload(&event.payload)?,
            None => serde_json::json!({}),
        };
        let recipients = if row.channel == "email" {
            self.recipients(row.project_id).await?
        } else {
            Vec::new()
        };
        let webhook = match row.webhook_id {
            Some(id) => webhook::Entity::find_by_id(id).one(self.db()).await?,
            None => None,
        };
        Ok(NotificationContext {
            row,
            project,
            issue,
            event,
            recipients,
            webhook,
        })
    }
}
