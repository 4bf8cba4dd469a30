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
//!    counts (`users.rs`); one upsert each of the environments and releases seen and of
//!    the tag values for search;
//! 7. ignored issues whose snooze ran out, back (only when the batch touches one); new
//!    issues assigned by their project's ownership rules (`owners.rs`; only when there
//!    are rules);
//! 8. the alerts the projects' rules fire (`alerts.rs`; `alerts::rule` decides),
//!    written to the outbox with when each rule fired.
//!
//! Rows are written in a fixed order (issues by project and fingerprint), so that two
//! collectors on one PostgreSQL never deadlock, and every count is exact.

mod alerts;
mod batch;
mod groups;
mod model;
mod owners;
mod shapes;
mod statements;
mod users;

use sea_orm::{ConnectionTrait, DbErr};

pub(crate) use alerts::targets as rule_targets;
pub(crate) use statements::unsnooze;

use super::{Store, StoreError};
pub use alerts::Alerting;
use batch::Batch;
pub use model::{EventUser, NewEvent, Stored};

impl Store {
    /// Stores a batch of events in one transaction. When the batch fails as a whole
    /// (one event the database refuses, say), each event is stored in a transaction of
    /// its own, so that one problem does not fail the others.
    pub async fn ingest_batch(
        &self,
        batch: &[NewEvent],
        alerting: Alerting,
    ) -> Vec<Result<Stored, StoreError>> {
        match self.write_events(batch, alerting).await {
            Ok(stored) => stored.into_iter().map(Ok).collect(),
            Err(error) => {
                tracing::debug!(%error, size = batch.len(), "batch failed; storing one by one");
                let mut results = Vec::with_capacity(batch.len());
                for event in batch {
                    results.push(
                        self.write_events(std::slice::from_ref(event), alerting)
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
        alerting: Alerting,
    ) -> Result<Vec<Stored>, StoreError> {
        if let Some((hot, turn)) = self.sqlite_hot() {
            let _turn = turn.lock().await;
            let batch = batch.to_vec();
            return hot
                .transaction(async move |txn| write_batch(txn, &batch, alerting).await)
                .await;
        }
        self.write(async |txn| Ok(write_batch(txn, batch, alerting).await?))
            .await
    }
}

/// Writes `events` in the transaction `txn`: the steps of the module's documentation.
async fn write_batch(
    txn: &impl ConnectionTrait,
    events: &[NewEvent],
    alerting: Alerting,
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
    batch.assign_owners(txn).await?;
    batch.queue_alerts(txn, alerting).await?;
    Ok(batch.stored)
}
