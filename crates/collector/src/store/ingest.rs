//! Storing received events: the event row, its issue (created, updated or reopened), the
//! affected user, and the notifications the event causes, all in one transaction per
//! batch (group commit).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};

use super::entities::{EventLevel, IssueStatus, NotificationKind, affected_user, event, issue};
use super::outbox;
use super::{Store, StoreError};

/// The affected user of an event, as the event described them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventUser {
    /// Identity for counting: `id:…`, else `email:…`, `username:…`, `ip:…`.
    pub key: String,
    /// App user id.
    pub id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// IP address.
    pub ip_address: Option<String>,
}

/// An event ready to store: parsed, grouped, compressed.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The project.
    pub project_id: i64,
    /// The sender's id, 32 hex digits.
    pub event_id: String,
    /// Receive time (ms).
    pub received_at: i64,
    /// Event time (ms).
    pub timestamp: i64,
    /// Level.
    pub level: EventLevel,
    /// Environment.
    pub environment: Option<String>,
    /// Release.
    pub release: Option<String>,
    /// Who was affected.
    pub user: Option<EventUser>,
    /// Grouping fingerprint.
    pub fingerprint: String,
    /// Issue title, used when the issue is new.
    pub title: String,
    /// Issue culprit.
    pub culprit: Option<String>,
    /// zstd-compressed JSON.
    pub payload: Vec<u8>,
    /// The project's spike notification settings.
    pub spike: SpikeSettings,
}

/// A project's spike notification settings, as ingest applies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpikeSettings {
    /// More than this many events in the window is a spike; 0 turns spikes off.
    pub threshold: i64,
    /// The window, in milliseconds.
    pub window_ms: i64,
    /// After a notification about an issue, no spike notification for it during this
    /// long (milliseconds).
    pub quiet_ms: i64,
}

/// What an ingested event did to its issue: what the notification rule decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestFacts {
    /// The event created the issue.
    pub new_issue: bool,
    /// The event reopened a resolved issue.
    pub regression: bool,
    /// When the event was received (ms).
    pub received_at: i64,
    /// When a notification about the issue was last queued (ms).
    pub last_notified_at: Option<i64>,
    /// The project's spike settings.
    pub spike: SpikeSettings,
}

/// Decides which notification an ingested event queues (`notify::policy` has the
/// collector's rule): the store supplies the facts and writes the outbox rows in the
/// event's transaction, the rule stays a pure function that is tested on its own.
pub trait NotificationRule: Send + Sync {
    /// From when (ms) the issue's events must be counted to decide, if at all.
    fn count_since(&self, facts: &IngestFacts) -> Option<i64>;
    /// The notification to queue, if any; `recent` counts the issue's events since
    /// [`count_since`](Self::count_since), when it asked for a count.
    fn decide(&self, facts: &IngestFacts, recent: Option<u64>) -> Option<NotificationKind>;
}

/// What storing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// The issue it joined.
    pub issue_id: i64,
    /// The issue was created by this event.
    pub new_issue: bool,
    /// A resolved issue was reopened by this event.
    pub regression: bool,
    /// The event id was already stored: nothing changed.
    pub duplicate: bool,
    /// Notifications queued in the outbox by this event.
    pub notifications: usize,
}

impl Store {
    /// Stores a batch of events in one transaction (group commit). When the batch fails
    /// as a whole (say, a concurrent writer created the same issue first), each event is
    /// retried in its own transaction so one problem does not fail the others.
    pub async fn ingest_batch(
        &self,
        batch: &[NewEvent],
        rule: &dyn NotificationRule,
    ) -> Vec<Result<Stored, StoreError>> {
        match self.ingest_together(batch, rule).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(error) => {
                tracing::debug!(%error, size = batch.len(), "batch failed; storing one by one");
                let mut results = Vec::with_capacity(batch.len());
                for event in batch {
                    results.push(
                        self.ingest_together(std::slice::from_ref(event), rule)
                            .await
                            .map(|mut s| s.remove(0)),
                    );
                }
                results
            }
        }
    }

    async fn ingest_together(
        &self,
        batch: &[NewEvent],
        rule: &dyn NotificationRule,
    ) -> Result<Vec<Stored>, StoreError> {
        let _turn = self.write_turn().await;
        let txn = self.db().begin().await?;
        let mut stored = Vec::with_capacity(batch.len());
        for event in batch {
            stored.push(ingest_one(&txn, event, rule).await?);
        }
        txn.commit().await?;
        Ok(stored)
    }
}

async fn ingest_one(
    txn: &DatabaseTransaction,
    new: &NewEvent,
    rule: &dyn NotificationRule,
) -> Result<Stored, DbErr> {
    let existing = event::Entity::find()
        .filter(event::Column::ProjectId.eq(new.project_id))
        .filter(event::Column::EventId.eq(new.event_id.as_str()))
        .one(txn)
        .await?;
    if let Some(existing) = existing {
        return Ok(Stored {
            issue_id: existing.issue_id,
            new_issue: false,
            regression: false,
            duplicate: true,
            notifications: 0,
        });
    }
    let found = issue::Entity::find()
        .filter(issue::Column::ProjectId.eq(new.project_id))
        .filter(issue::Column::Fingerprint.eq(new.fingerprint.as_str()))
        .one(txn)
        .await?;
    let last_notified_at = found.as_ref().and_then(|f| f.last_notified_at);
    let (issue_id, new_issue, regression) = match found {
        None => {
            let created = issue::ActiveModel {
                id: NotSet,
                project_id: Set(new.project_id),
                fingerprint: Set(new.fingerprint.clone()),
                title: Set(new.title.clone()),
                culprit: Set(new.culprit.clone()),
                level: Set(new.level),
                status: Set(IssueStatus::Unresolved),
                first_seen: Set(new.timestamp),
                last_seen: Set(new.timestamp),
                event_count: Set(1),
                user_count: Set(0),
                first_release: Set(new.release.clone()),
                last_release: Set(new.release.clone()),
                last_environment: Set(new.environment.clone()),
                regression_count: Set(0),
                last_regressed_at: Set(None),
                resolved_at: Set(None),
                last_notified_at: Set(None),
            }
            .insert(txn)
            .await?;
            (created.id, true, false)
        }
        Some(found) => {
            let regression = found.status == IssueStatus::Resolved;
            let issue_id = found.id;
            let newer = new.timestamp >= found.last_seen;
            let mut active: issue::ActiveModel = found.clone().into();
            active.event_count = Set(found.event_count + 1);
            if newer {
                active.last_seen = Set(new.timestamp);
                active.level = Set(new.level);
                active.title = Set(new.title.clone());
                active.culprit = Set(new.culprit.clone());
                if new.release.is_some() {
                    active.last_release = Set(new.release.clone());
                }
                if new.environment.is_some() {
                    active.last_environment = Set(new.environment.clone());
                }
            }
            if new.timestamp < found.first_seen {
                active.first_seen = Set(new.timestamp);
            }
            if regression {
                active.status = Set(IssueStatus::Unresolved);
                active.regression_count = Set(found.regression_count + 1);
                active.last_regressed_at = Set(Some(new.received_at));
                active.resolved_at = Set(None);
            }
            active.update(txn).await?;
            (issue_id, false, regression)
        }
    };
    if let Some(user) = &new.user {
        record_user(txn, issue_id, user, new.timestamp).await?;
    }
    let row = event::ActiveModel {
        id: NotSet,
        project_id: Set(new.project_id),
        issue_id: Set(issue_id),
        event_id: Set(new.event_id.clone()),
        received_at: Set(new.received_at),
        timestamp: Set(new.timestamp),
        level: Set(new.level),
        environment: Set(new.environment.clone()),
        release: Set(new.release.clone()),
        user_key: Set(new.user.as_ref().map(|u| u.key.clone())),
        payload: Set(new.payload.clone()),
    }
    .insert(txn)
    .await?;
    let facts = IngestFacts {
        new_issue,
        regression,
        received_at: new.received_at,
        last_notified_at,
        spike: new.spike,
    };
    let recent = match rule.count_since(&facts) {
        Some(since) => Some(
            event::Entity::find()
                .filter(event::Column::IssueId.eq(issue_id))
                .filter(event::Column::ReceivedAt.gte(since))
                .count(txn)
                .await?,
        ),
        None => None,
    };
    let notifications = match rule.decide(&facts, recent) {
        Some(kind) => {
            outbox::queue(txn, new.project_id, issue_id, row.id, kind, new.received_at).await?
        }
        None => 0,
    };
    Ok(Stored {
        issue_id,
        new_issue,
        regression,
        duplicate: false,
        notifications,
    })
}

async fn record_user(
    txn: &DatabaseTransaction,
    issue_id: i64,
    user: &EventUser,
    at: i64,
) -> Result<(), DbErr> {
    let found = affected_user::Entity::find()
        .filter(affected_user::Column::IssueId.eq(issue_id))
        .filter(affected_user::Column::UserKey.eq(user.key.as_str()))
        .one(txn)
        .await?;
    match found {
        Some(found) => {
            let mut active: affected_user::ActiveModel = found.clone().into();
            active.event_count = Set(found.event_count + 1);
            active.last_seen = Set(found.last_seen.max(at));
            // Keep what the latest event says, without losing what older ones said.
            for (column, value) in [
                (&mut active.user_id, &user.id),
                (&mut active.email, &user.email),
                (&mut active.username, &user.username),
                (&mut active.name, &user.name),
                (&mut active.ip_address, &user.ip_address),
            ] {
                if value.is_some() {
                    *column = Set(value.clone());
                }
            }
            active.update(txn).await?;
        }
        None => {
            affected_user::ActiveModel {
                id: NotSet,
                issue_id: Set(issue_id),
                user_key: Set(user.key.clone()),
                user_id: Set(user.id.clone()),
                email: Set(user.email.clone()),
                username: Set(user.username.clone()),
                name: Set(user.name.clone()),
                ip_address: Set(user.ip_address.clone()),
                event_count: Set(1),
                first_seen: Set(at),
                last_seen: Set(at),
            }
            .insert(txn)
            .await?;
            issue::Entity::update_many()
                .col_expr(
                    issue::Column::UserCount,
                    Expr::col(issue::Column::UserCount).add(1),
                )
                .filter(issue::Column::Id.eq(issue_id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}
