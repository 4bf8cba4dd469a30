//! The notification outbox: rows written with the event that caused them, claimed by
//! workers with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), marked sent or failed.

use mayday_protocol::Event;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

use super::entities::{
    Channel, DeliveryStatus, NotificationKind, event, issue, outbox, project, recipient, webhook,
};
use super::events::decode_payload;
use super::{Store, StoreError, now_ms};

/// Everything needed to write one notification.
#[derive(Debug, Clone)]
pub struct NotificationContext {
    /// The outbox row.
    pub row: outbox::Model,
    /// The project.
    pub project: project::Model,
    /// The issue.
    pub issue: issue::Model,
    /// The event (an empty one when retention removed it).
    pub event: Event,
    /// Email recipients (channel `email`).
    pub recipients: Vec<String>,
    /// The webhook (channel `webhook`).
    pub webhook: Option<webhook::Model>,
}

impl Store {
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
            row.status = Set(DeliveryStatus::Sent);
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
                None => row.status = Set(DeliveryStatus::Failed),
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
            None => Event::default(),
        };
        let recipients = if row.channel == Channel::Email {
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

/// Writes the outbox rows of a `kind` notification about event row `event_row_id`: one
/// email (when the project has recipients) and one per webhook, in the transaction of
/// the event. Returns how many rows were written.
pub(crate) async fn queue(
    txn: &DatabaseTransaction,
    project_id: i64,
    issue_id: i64,
    event_row_id: i64,
    kind: NotificationKind,
    at: i64,
) -> Result<usize, DbErr> {
    let has_recipients = recipient::Entity::find()
        .filter(recipient::Column::ProjectId.eq(project_id))
        .count(txn)
        .await?
        > 0;
    let webhooks = webhook::Entity::find()
        .filter(webhook::Column::ProjectId.eq(project_id))
        .all(txn)
        .await?;
    let mut channels: Vec<(Channel, Option<i64>)> = Vec::new();
    if has_recipients {
        channels.push((Channel::Email, None));
    }
    channels.extend(webhooks.iter().map(|w| (Channel::Webhook, Some(w.id))));
    for (channel, webhook_id) in &channels {
        outbox::ActiveModel {
            id: NotSet,
            project_id: Set(project_id),
            issue_id: Set(issue_id),
            event_row_id: Set(event_row_id),
            kind: Set(kind),
            channel: Set(*channel),
            webhook_id: Set(*webhook_id),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(at),
            claimed_until: Set(None),
            last_error: Set(None),
            created_at: Set(at),
            sent_at: Set(None),
        }
        .insert(txn)
        .await?;
    }
    issue::Entity::update_many()
        .col_expr(issue::Column::LastNotifiedAt, Expr::value(at))
        .filter(issue::Column::Id.eq(issue_id))
        .exec(txn)
        .await?;
    Ok(channels.len())
}
