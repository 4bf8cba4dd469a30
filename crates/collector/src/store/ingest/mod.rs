//! Storing received events, a batch at a time (group commit), set-based: whatever the
//! batch's size, one transaction of a handful of statements, in the order of
//! [`write_batch`] (each step a method of [`batch::Batch`]):
//!
//! 1. the batch's event ids already stored (duplicates: skipped); merged issues'
//!    fingerprints followed to the issue they joined;
//! 2. its issues that exist, locked in id order (`FOR UPDATE` on PostgreSQL; SQLite's
//!    write transaction is exclusive anyway);
//! 3. one multi-row upsert of its issues, counts added atomically
//!    (`event_count = issue.event_count + excluded.event_count`), first and last seen,
//!    the newest event's title, level, release and environment;
//! 4. one update reopening the resolved ones (regressions);
//! 5. one multi-row insert of the events (`ON CONFLICT DO NOTHING`: an event another
//!    collector stored meanwhile is not counted twice);
//! 6. one multi-row upsert of the affected users and one update of their issues' user
//!    counts; one upsert each of the environments and releases seen and of the tag
//!    values for search;
//! 7. ignored issues whose snooze ran out, back (only when the batch touches one);
//! 8. the notifications [`NotificationRule`] decides on, written to the outbox (a count
//!    of recent events first, for spikes).
//!
//! Rows are written in a fixed order (issues by project and fingerprint), so that two
//! collectors on one PostgreSQL never deadlock, and every count is exact.

mod batch;
mod statements;

use sea_orm::{ConnectionTrait, DbErr};

pub(crate) use statements::unsnooze;

use super::entities::{EventLevel, NotificationKind};
use super::{Store, StoreError};
use batch::Batch;

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
    /// Its tags, and its message under `message`, capped, for the search box.
    pub tags: Vec<(String, String)>,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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

impl Stored {
    pub(super) fn duplicate(issue_id: i64) -> Self {
        Stored {
            issue_id,
            duplicate: true,
            ..Default::default()
        }
    }
}

impl Store {
    /// Stores a batch of events in one transaction. When the batch fails as a whole
    /// (one event the database refuses, say), each event is stored in a transaction of
    /// its own, so that one problem does not fail the others.
    pub async fn ingest_batch(
        &self,
        batch: &[NewEvent],
        rule: &'static dyn NotificationRule,
    ) -> Vec<Result<Stored, StoreError>> {
        match self.write_events(batch, rule).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(error) => {
                tracing::debug!(%error, size = batch.len(), "batch failed; storing one by one");
                let mut results = Vec::with_capacity(batch.len());
                for event in batch {
                    results.push(
                        self.write_events(std::slice::from_ref(event), rule)
                            .await
                            .map(|mut stored| stored.remove(0)),
                    );
                }
                results
            }
        }
    }

    /// [`write_batch`] in a write transaction: on SQLite's writer thread when there is
    /// one (in the write turn every writer takes), else through [`Store::write`].
    async fn write_events(
        &self,
        batch: &[NewEvent],
        rule: &'static dyn NotificationRule,
    ) -> Result<Vec<Stored>, StoreError> {
        if let Some((hot, turn)) = self.sqlite_hot() {
            let _turn = turn.lock().await;
            let batch = batch.to_vec();
            return hot
                .transaction(async move |txn| write_batch(txn, &batch, rule).await)
                .await;
        }
        self.write(async |txn| Ok(write_batch(txn, batch, rule).await?))
            .await
    }
}

/// Writes `events` in the transaction `txn`: the steps of the module's documentation.
async fn write_batch(
    txn: &impl ConnectionTrait,
    events: &[NewEvent],
    rule: &dyn NotificationRule,
) -> Result<Vec<Stored>, DbErr> {
    let mut batch = Batch::new(events);
    if events.is_empty() {
        return Ok(batch.stored);
    }
    batch.skip_duplicates(txn).await?;
    batch.group_by_issue(txn).await?;
    batch.lock_issues(txn).await?;
    batch.upsert_issues(txn).await?;
    batch.reopen_regressions(txn).await?;
    batch.insert_events(txn).await?;
    batch.upsert_users_and_values(txn).await?;
    batch.wake_snoozed(txn).await?;
    batch.queue_notifications(txn, rule).await?;
    Ok(batch.stored)
}
