//! Storing received events, a batch at a time (group commit), set-based: whatever the
//! batch's size, one transaction of a handful of statements:
//!
//! 1. the batch's event ids already stored (duplicates: skipped);
//! 2. its issues that exist, locked in id order (`FOR UPDATE` on PostgreSQL; SQLite's
//!    write transaction is exclusive anyway);
//! 3. one multi-row upsert of its issues, counts added atomically
//!    (`event_count = issue.event_count + excluded.event_count`), first and last seen,
//!    the newest event's title, level, release and environment;
//! 4. one update reopening the resolved ones (regressions);
//! 5. one multi-row insert of the events (`ON CONFLICT DO NOTHING`: an event another
//!    collector stored meanwhile is not counted twice);
//! 6. one multi-row upsert of the affected users, and one update of their issues' user
//!    counts;
//! 7. the notifications [`NotificationRule`] decides on, written to the outbox (a count of
//!    recent events first, for spikes).
//!
//! Rows are written in a fixed order (issues by project and fingerprint), so that two
//! collectors on one PostgreSQL never deadlock, and every count is exact.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::sea_query::{Alias, Expr, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{
    EventLevel, FilterKind, IssueStatus, NotificationKind, affected_user, event, filter_value,
    issue, issue_alias, issue_tag,
};
use super::outbox::{self, Notice};
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
    fn duplicate(issue_id: i64) -> Self {
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

/// The events of one issue within a batch.
#[derive(Debug)]
struct Group {
    project_id: i64,
    fingerprint: String,
    /// Indices into the batch, in batch order.
    events: Vec<usize>,
    first_seen: i64,
    last_seen: i64,
    /// The event with the latest timestamp (the issue's title, level, release come from it).
    newest: usize,
    /// The event with the earliest timestamp (the first release).
    oldest: usize,
    received_at: i64,
}

/// What the database said about an issue before this batch.
#[derive(Debug, Clone)]
struct Before {
    id: i64,
    status: IssueStatus,
    last_notified_at: Option<i64>,
    /// Ignored until then (ms), or until these many events or users.
    snooze_until: Option<i64>,
    snooze_events: Option<i64>,
    snooze_users: Option<i64>,
    /// Resolved in the release after this one.
    resolved_in_release: Option<String>,
}

impl Before {
    /// Whether the events of `group` reopen this resolved issue: any event at all,
    /// unless it was resolved "in the next release", then only an event of a newer
    /// release than the one it was resolved in.
    fn regressed_by(&self, group: &Group, batch: &[NewEvent]) -> bool {
        if self.status != IssueStatus::Resolved {
            return false;
        }
        match &self.resolved_in_release {
            None => true,
            Some(resolved_in) => group.events.iter().any(|&i| {
                batch[i]
                    .release
                    .as_deref()
                    .is_some_and(|release| crate::release::is_newer(release, resolved_in))
            }),
        }
    }

    fn snoozed(&self) -> bool {
        self.status == IssueStatus::Ignored
            && (self.snooze_until.is_some()
                || self.snooze_events.is_some()
                || self.snooze_users.is_some())
    }
}

async fn write_batch(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    rule: &dyn NotificationRule,
) -> Result<Vec<Stored>, DbErr> {
    let mut stored: Vec<Stored> = vec![Stored::default(); batch.len()];
    if batch.is_empty() {
        return Ok(stored);
    }

    // 1. Duplicates: already stored, or earlier in this batch.
    let ids: Vec<&str> = batch.iter().map(|e| e.event_id.as_str()).collect();
    let projects: HashSet<i64> = batch.iter().map(|e| e.project_id).collect();
    let known: HashMap<(i64, String), i64> = event::Entity::find()
        .select_only()
        .column(event::Column::ProjectId)
        .column(event::Column::EventId)
        .column(event::Column::IssueId)
        // Both columns of the (project, event id) index, so that it is used.
        .filter(event::Column::ProjectId.is_in(projects))
        .filter(event::Column::EventId.is_in(ids))
        .into_tuple::<(i64, String, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(project, id, issue)| ((project, id), issue))
        .collect();
    let mut first_of: HashMap<(i64, &str), usize> = HashMap::new();
    let mut fresh = Vec::with_capacity(batch.len());
    for (index, event) in batch.iter().enumerate() {
        let key = (event.project_id, event.event_id.as_str());
        if let Some(issue_id) = known.get(&(event.project_id, event.event_id.clone())) {
            stored[index] = Stored::duplicate(*issue_id);
        } else if let std::collections::hash_map::Entry::Vacant(slot) = first_of.entry(key) {
            slot.insert(index);
            fresh.push(index);
        } else {
            stored[index].duplicate = true; // Its issue is filled in below.
        }
    }

    // Merged issues' fingerprints join the issue they were merged into.
    let aliases = aliases_of(txn, batch, &fresh).await?;
    let fingerprint_of = |index: usize| -> &str {
        let event = &batch[index];
        aliases
            .get(&(event.project_id, event.fingerprint.clone()))
            .map_or(event.fingerprint.as_str(), |a| {
                a.target_fingerprint.as_str()
            })
    };

    // Issues of the fresh events, in a fixed order.
    let mut groups: BTreeMap<(i64, String), Group> = BTreeMap::new();
    for &index in &fresh {
        let event = &batch[index];
        let group = groups
            .entry((event.project_id, fingerprint_of(index).to_owned()))
            .or_insert_with(|| Group {
                project_id: event.project_id,
                fingerprint: fingerprint_of(index).to_owned(),
                events: Vec::new(),
                first_seen: event.timestamp,
                last_seen: event.timestamp,
                newest: index,
                oldest: index,
                received_at: event.received_at,
            });
        group.events.push(index);
        if event.timestamp >= batch[group.newest].timestamp {
            group.newest = index;
        }
        if event.timestamp < batch[group.oldest].timestamp {
            group.oldest = index;
        }
        group.first_seen = group.first_seen.min(event.timestamp);
        group.last_seen = group.last_seen.max(event.timestamp);
        group.received_at = group.received_at.max(event.received_at);
    }

    let mut issue_ids: HashMap<(i64, String), i64> = HashMap::new();
    let mut before: HashMap<(i64, String), Before> = HashMap::new();
    // Each issue's event count after this batch's upsert.
    let mut counts_after: HashMap<(i64, String), i64> = HashMap::new();
    if !groups.is_empty() {
        // 2. The existing issues, locked in id order.
        let fingerprints: Vec<&str> = groups.keys().map(|(_, f)| f.as_str()).collect();
        let projects: HashSet<i64> = groups.keys().map(|(p, _)| *p).collect();
        let mut select = issue::Entity::find()
            .select_only()
            .column(issue::Column::Id)
            .column(issue::Column::ProjectId)
            .column(issue::Column::Fingerprint)
            .column(issue::Column::Status)
            .column(issue::Column::LastNotifiedAt)
            .column(issue::Column::SnoozeUntil)
            .column(issue::Column::SnoozeEvents)
            .column(issue::Column::SnoozeUsers)
            .column(issue::Column::ResolvedInRelease)
            .filter(issue::Column::Fingerprint.is_in(fingerprints))
            .filter(issue::Column::ProjectId.is_in(projects))
            .order_by_asc(issue::Column::Id);
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            select = select.lock_exclusive();
        }
        type Row = (
            i64,
            i64,
            String,
            IssueStatus,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = select.into_tuple().all(txn).await?;
        for (
            id,
            project_id,
            fingerprint,
            status,
            last_notified_at,
            snooze_until,
            snooze_events,
            snooze_users,
            resolved_in_release,
        ) in rows
        {
            let key = (project_id, fingerprint);
            if groups.contains_key(&key) {
                issue_ids.insert(key.clone(), id);
                before.insert(
                    key,
                    Before {
                        id,
                        status,
                        last_notified_at,
                        snooze_until,
                        snooze_events,
                        snooze_users,
                        resolved_in_release,
                    },
                );
            }
        }

        // 3. One upsert for every issue of the batch.
        let upserted = upsert_issues(txn, batch, &groups).await?;
        for (project_id, fingerprint, id, event_count) in upserted {
            let key = (project_id, fingerprint);
            let Some(group) = groups.get(&key) else {
                continue;
            };
            // New when it did not exist a moment ago and holds only this batch's events
            // (another collector may have created it meanwhile).
            let new_issue = !before.contains_key(&key) && event_count == group.events.len() as i64;
            issue_ids.insert(key.clone(), id);
            counts_after.insert(key, event_count);
            if let Some(&first) = group.events.first() {
                stored[first].new_issue = new_issue;
            }
        }

        // 4. Regressions: resolved issues seen again (when resolved in the next release,
        //    seen in a newer one).
        let regressed: Vec<&(i64, String)> = before
            .iter()
            .filter(|(key, b)| groups.get(*key).is_some_and(|g| b.regressed_by(g, batch)))
            .map(|(key, _)| key)
            .collect();
        if !regressed.is_empty() {
            let at = groups.values().map(|g| g.received_at).max().unwrap_or(0);
            let reopen = Query::update()
                .table(issue::Entity)
                .value(issue::Column::Status, IssueStatus::Unresolved)
                .value(
                    issue::Column::RegressionCount,
                    Expr::col(issue::Column::RegressionCount).add(1),
                )
                .value(issue::Column::LastRegressedAt, at)
                .value(issue::Column::ResolvedAt, Option::<i64>::None)
                .value(issue::Column::ResolvedInRelease, Option::<String>::None)
                .and_where(
                    issue::Column::Id
                        .is_in(regressed.iter().filter_map(|k| issue_ids.get(*k).copied())),
                )
                .to_owned();
            txn.execute(txn.get_database_backend().build(&reopen))
                .await?;
            for key in &regressed {
                if let Some(&first) = groups.get(*key).and_then(|g| g.events.first()) {
                    stored[first].regression = true;
                }
            }
        }
    }

    // 5. The events, skipping any another collector stored meanwhile.
    for &index in &fresh {
        let event = &batch[index];
        if let Some(&id) = issue_ids.get(&(event.project_id, fingerprint_of(index).to_owned())) {
            stored[index].issue_id = id;
        }
    }
    let grouped_as: Vec<Option<i64>> = batch
        .iter()
        .map(|event| {
            aliases
                .get(&(event.project_id, event.fingerprint.clone()))
                .map(|a| a.source_issue_id)
        })
        .collect();
    let rows = insert_events(txn, batch, &fresh, &stored, &grouped_as).await?;
    count_alias_events(txn, batch, &fresh, &rows, &aliases).await?;
    let mut raced: HashMap<i64, i64> = HashMap::new();
    for &index in &fresh {
        if !rows.contains_key(&(batch[index].project_id, batch[index].event_id.clone())) {
            stored[index].duplicate = true;
            *raced.entry(stored[index].issue_id).or_default() += 1;
        }
    }
    for (issue_id, extra) in raced {
        // Counted in the upsert, but stored by another collector first.
        let fix = Query::update()
            .table(issue::Entity)
            .value(
                issue::Column::EventCount,
                Expr::col(issue::Column::EventCount).sub(extra),
            )
            .and_where(issue::Column::Id.eq(issue_id))
            .to_owned();
        txn.execute(txn.get_database_backend().build(&fix)).await?;
    }
    // Duplicates within the batch join their first copy's issue.
    for index in 0..batch.len() {
        if stored[index].duplicate && stored[index].issue_id == 0 {
            let key = (batch[index].project_id, batch[index].event_id.as_str());
            if let Some(&first) = first_of.get(&key) {
                stored[index].issue_id = stored[first].issue_id;
            }
        }
    }
    let inserted: Vec<usize> = fresh
        .iter()
        .copied()
        .filter(|&i| !stored[i].duplicate)
        .collect();

    // 6. Affected users, and the environments and releases seen.
    upsert_users(txn, batch, &inserted, &stored).await?;
    upsert_filter_values(txn, batch, &inserted).await?;
    upsert_tags(txn, batch, &inserted, &stored).await?;

    // 6b. Ignored issues whose snooze ran out come back.
    wake_snoozed(txn, &groups, &before, &counts_after).await?;

    // 7. Notifications, one per issue at most.
    let mut facts: Vec<(usize, IngestFacts)> = Vec::new();
    for (key, group) in &groups {
        let Some(&trigger) = group.events.iter().rev().find(|&&i| !stored[i].duplicate) else {
            continue;
        };
        let first = group.events[0];
        facts.push((
            trigger,
            IngestFacts {
                new_issue: stored[first].new_issue,
                regression: stored[first].regression,
                received_at: group.received_at,
                last_notified_at: before.get(key).and_then(|b| b.last_notified_at),
                spike: batch[trigger].spike,
            },
        ));
    }
    let counts = recent_counts(txn, &facts, &stored, rule).await?;
    let mut notices = Vec::new();
    for (trigger, fact) in &facts {
        let recent = counts.get(&stored[*trigger].issue_id).copied();
        let recent = rule.count_since(fact).map(|_| recent.unwrap_or(0));
        if let Some(kind) = rule.decide(fact, recent) {
            notices.push((
                *trigger,
                Notice {
                    project_id: batch[*trigger].project_id,
                    issue_id: stored[*trigger].issue_id,
                    event_row_id: rows
                        .get(&(batch[*trigger].project_id, batch[*trigger].event_id.clone()))
                        .copied()
                        .unwrap_or_default(),
                    kind,
                    at: fact.received_at,
                },
            ));
        }
    }
    let queued = outbox::queue(txn, notices.iter().map(|(_, n)| n)).await?;
    for ((trigger, _), count) in notices.iter().zip(queued) {
        stored[*trigger].notifications = count;
    }
    Ok(stored)
}

/// The environments and releases of the batch's stored events, for the issue list's
/// selects: one upsert, newest time kept.
async fn upsert_filter_values(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    inserted: &[usize],
) -> Result<(), DbErr> {
    use filter_value::Column as C;
    let mut seen: BTreeMap<(i64, FilterKind, &str), i64> = BTreeMap::new();
    for &index in inserted {
        let event = &batch[index];
        for (kind, value) in [
            (FilterKind::Environment, &event.environment),
            (FilterKind::Release, &event.release),
        ] {
            if let Some(value) = value.as_deref() {
                let at = seen.entry((event.project_id, kind, value)).or_insert(0);
                *at = (*at).max(event.received_at);
            }
        }
    }
    if seen.is_empty() {
        return Ok(());
    }
    let rows = seen
        .iter()
        .map(|((project_id, kind, value), at)| {
            ([(*project_id).into(), (*kind).into(), (*value).into()], *at)
        })
        .collect();
    upsert_last_seen(
        txn,
        filter_value::Entity,
        [C::ProjectId, C::Kind, C::Value],
        C::LastSeen,
        rows,
    )
    .await
}

/// The tag values (and messages) of the batch's stored events per issue, for search:
/// one upsert, newest time kept.
async fn upsert_tags(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    inserted: &[usize],
    stored: &[Stored],
) -> Result<(), DbErr> {
    use issue_tag::Column as C;
    let mut seen: BTreeMap<(i64, &str, &str), i64> = BTreeMap::new();
    for &index in inserted {
        let event = &batch[index];
        for (key, value) in &event.tags {
            let at = seen
                .entry((stored[index].issue_id, key.as_str(), value.as_str()))
                .or_insert(0);
            *at = (*at).max(event.received_at);
        }
    }
    if seen.is_empty() {
        return Ok(());
    }
    let rows = seen
        .iter()
        .map(|((issue_id, key, value), at)| {
            ([(*issue_id).into(), (*key).into(), (*value).into()], *at)
        })
        .collect();
    upsert_last_seen(
        txn,
        issue_tag::Entity,
        [C::IssueId, C::Key, C::Value],
        C::LastSeen,
        rows,
    )
    .await
}

/// Rows of `entity` identified by their three `keys` values, each with the time it was
/// seen: one multi-row insert that, for a row already there, keeps the newer time.
async fn upsert_last_seen<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    entity: E,
    keys: [E::Column; 3],
    last_seen: E::Column,
    rows: Vec<([sea_orm::Value; 3], i64)>,
) -> Result<(), DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(entity)
        .columns(keys.into_iter().chain([last_seen]));
    for ([a, b, c], at) in rows {
        insert
            .values([a.into(), b.into(), c.into(), at.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let existing = Expr::col((entity, last_seen));
    let excluded = Expr::col((Alias::new("excluded"), last_seen));
    insert.on_conflict(
        OnConflict::columns(keys)
            .value(
                last_seen,
                Expr::case(excluded.clone().gt(existing.clone()), excluded).finally(existing),
            )
            .to_owned(),
    );
    txn.execute(txn.get_database_backend().build(&insert))
        .await?;
    Ok(())
}

/// Ignored issues of the batch whose snooze ran out (the date passed, or their events or
/// users reached the count set) back to unresolved: one read of user counts when a
/// snooze counts users, one update.
async fn wake_snoozed(
    txn: &impl ConnectionTrait,
    groups: &BTreeMap<(i64, String), Group>,
    before: &HashMap<(i64, String), Before>,
    counts_after: &HashMap<(i64, String), i64>,
) -> Result<(), DbErr> {
    let snoozed: Vec<(&(i64, String), &Before)> =
        before.iter().filter(|(_, b)| b.snoozed()).collect();
    if snoozed.is_empty() {
        return Ok(());
    }
    let by_users: Vec<i64> = snoozed
        .iter()
        .filter(|(_, b)| b.snooze_users.is_some())
        .map(|(_, b)| b.id)
        .collect();
    let users: HashMap<i64, i64> = if by_users.is_empty() {
        HashMap::new()
    } else {
        issue::Entity::find()
            .select_only()
            .column(issue::Column::Id)
            .column(issue::Column::UserCount)
            .filter(issue::Column::Id.is_in(by_users))
            .into_tuple::<(i64, i64)>()
            .all(txn)
            .await?
            .into_iter()
            .collect()
    };
    let woken: Vec<i64> = snoozed
        .iter()
        .filter(|(key, b)| {
            let received = groups.get(*key).map_or(0, |g| g.received_at);
            let events = counts_after.get(*key).copied().unwrap_or(0);
            let users = users.get(&b.id).copied().unwrap_or(0);
            b.snooze_until.is_some_and(|until| received >= until)
                || b.snooze_events.is_some_and(|n| events >= n)
                || b.snooze_users.is_some_and(|n| users >= n)
        })
        .map(|(_, b)| b.id)
        .collect();
    if woken.is_empty() {
        return Ok(());
    }
    txn.execute(txn.get_database_backend().build(&unsnooze(&woken)))
        .await?;
    Ok(())
}

/// Back to unresolved, snooze cleared, for `ids`.
pub(super) fn unsnooze(ids: &[i64]) -> sea_orm::sea_query::UpdateStatement {
    Query::update()
        .table(issue::Entity)
        .value(issue::Column::Status, IssueStatus::Unresolved)
        .value(issue::Column::SnoozeUntil, Option::<i64>::None)
        .value(issue::Column::SnoozeEvents, Option::<i64>::None)
        .value(issue::Column::SnoozeUsers, Option::<i64>::None)
        .and_where(issue::Column::Id.is_in(ids.iter().copied()))
        .and_where(issue::Column::Status.eq(IssueStatus::Ignored))
        .to_owned()
}

/// The aliases of the batch's fingerprints (issues merged into others), by (project,
/// fingerprint): one query, none when the project has no merges.
async fn aliases_of(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    fresh: &[usize],
) -> Result<HashMap<(i64, String), issue_alias::Model>, DbErr> {
    if fresh.is_empty() {
        return Ok(HashMap::new());
    }
    let projects: HashSet<i64> = fresh.iter().map(|&i| batch[i].project_id).collect();
    let fingerprints: HashSet<&str> = fresh
        .iter()
        .map(|&i| batch[i].fingerprint.as_str())
        .collect();
    Ok(issue_alias::Entity::find()
        .filter(issue_alias::Column::ProjectId.is_in(projects))
        .filter(issue_alias::Column::Fingerprint.is_in(fingerprints))
        .all(txn)
        .await?
        .into_iter()
        .map(|alias| ((alias.project_id, alias.fingerprint.clone()), alias))
        .collect())
}

/// Counts, per alias, the events stored through it in this batch (unmerging gives them
/// back to the merged issue's count).
async fn count_alias_events(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    fresh: &[usize],
    rows: &HashMap<(i64, String), i64>,
    aliases: &HashMap<(i64, String), issue_alias::Model>,
) -> Result<(), DbErr> {
    if aliases.is_empty() {
        return Ok(());
    }
    let mut added: BTreeMap<i64, i64> = BTreeMap::new();
    for event in fresh.iter().map(|&i| &batch[i]) {
        if let Some(alias) = aliases.get(&(event.project_id, event.fingerprint.clone())) {
            if rows.contains_key(&(event.project_id, event.event_id.clone())) {
                *added.entry(alias.id).or_default() += 1;
            }
        }
    }
    for (alias_id, count) in added {
        let update = Query::update()
            .table(issue_alias::Entity)
            .value(
                issue_alias::Column::EventsAdded,
                Expr::col(issue_alias::Column::EventsAdded).add(count),
            )
            .and_where(issue_alias::Column::Id.eq(alias_id))
            .to_owned();
        txn.execute(txn.get_database_backend().build(&update))
            .await?;
    }
    Ok(())
}

/// The issues' upsert; returns (project, fingerprint, id, event count after) per issue.
async fn upsert_issues(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    groups: &BTreeMap<(i64, String), Group>,
) -> Result<Vec<(i64, String, i64, i64)>, DbErr> {
    use issue::Column as C;
    let mut insert = Query::insert();
    insert.into_table(issue::Entity).columns([
        C::ProjectId,
        C::Fingerprint,
        C::Title,
        C::Culprit,
        C::Level,
        C::Status,
        C::FirstSeen,
        C::LastSeen,
        C::EventCount,
        C::UserCount,
        C::FirstRelease,
        C::LastRelease,
        C::LastEnvironment,
        C::RegressionCount,
    ]);
    for group in groups.values() {
        let newest = &batch[group.newest];
        let oldest = &batch[group.oldest];
        insert
            .values([
                group.project_id.into(),
                group.fingerprint.clone().into(),
                newest.title.clone().into(),
                newest.culprit.clone().into(),
                newest.level.into(),
                IssueStatus::Unresolved.into(),
                group.first_seen.into(),
                group.last_seen.into(),
                (group.events.len() as i64).into(),
                0i64.into(),
                oldest.release.clone().into(),
                newest.release.clone().into(),
                newest.environment.clone().into(),
                0i64.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let existing = |column: C| Expr::col((issue::Entity, column));
    let excluded = |column: C| Expr::col((Alias::new("excluded"), column));
    // The newer of the stored issue and this batch decides title, level and the like.
    let newer = || excluded(C::LastSeen).gte(existing(C::LastSeen));
    let pick = |column: C| -> SimpleExpr {
        Expr::case(newer(), excluded(column))
            .finally(existing(column))
            .into()
    };
    let pick_present = |column: C| -> SimpleExpr {
        Expr::case(
            newer().and(excluded(column).is_not_null()),
            excluded(column),
        )
        .finally(existing(column))
        .into()
    };
    insert.on_conflict(
        OnConflict::columns([C::ProjectId, C::Fingerprint])
            .values([
                (
                    C::EventCount,
                    existing(C::EventCount).add(excluded(C::EventCount)),
                ),
                (
                    C::FirstSeen,
                    Expr::case(
                        excluded(C::FirstSeen).lt(existing(C::FirstSeen)),
                        excluded(C::FirstSeen),
                    )
                    .finally(existing(C::FirstSeen))
                    .into(),
                ),
                (
                    C::LastSeen,
                    Expr::case(newer(), excluded(C::LastSeen))
                        .finally(existing(C::LastSeen))
                        .into(),
                ),
                (C::Title, pick(C::Title)),
                (C::Culprit, pick(C::Culprit)),
                (C::Level, pick(C::Level)),
                (C::LastRelease, pick_present(C::LastRelease)),
                (C::LastEnvironment, pick_present(C::LastEnvironment)),
            ])
            .to_owned(),
    );
    insert.returning(Query::returning().columns([
        C::ProjectId,
        C::Fingerprint,
        C::Id,
        C::EventCount,
    ]));
    let rows = txn
        .query_all(txn.get_database_backend().build(&insert))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get("", "project_id")?,
                row.try_get("", "fingerprint")?,
                row.try_get("", "id")?,
                row.try_get("", "event_count")?,
            ))
        })
        .collect()
}

/// The events' insert, skipping ids stored already; returns the stored rows' ids by
/// (project, event id).
async fn insert_events(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    fresh: &[usize],
    stored: &[Stored],
    grouped_as: &[Option<i64>],
) -> Result<HashMap<(i64, String), i64>, DbErr> {
    use event::Column as C;
    if fresh.is_empty() {
        return Ok(HashMap::new());
    }
    let mut insert = Query::insert();
    insert.into_table(event::Entity).columns([
        C::ProjectId,
        C::IssueId,
        C::EventId,
        C::ReceivedAt,
        C::Timestamp,
        C::Level,
        C::Environment,
        C::Release,
        C::UserKey,
        C::Payload,
        C::GroupedAs,
    ]);
    for &index in fresh {
        let event = &batch[index];
        insert
            .values([
                event.project_id.into(),
                stored[index].issue_id.into(),
                event.event_id.clone().into(),
                event.received_at.into(),
                event.timestamp.into(),
                event.level.into(),
                event.environment.clone().into(),
                event.release.clone().into(),
                event.user.as_ref().map(|u| u.key.clone()).into(),
                event.payload.clone().into(),
                grouped_as[index].into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    insert
        .on_conflict(
            OnConflict::columns([C::ProjectId, C::EventId])
                .do_nothing()
                .to_owned(),
        )
        .returning(Query::returning().columns([C::ProjectId, C::EventId, C::Id]));
    let rows = txn
        .query_all(txn.get_database_backend().build(&insert))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                (row.try_get("", "project_id")?, row.try_get("", "event_id")?),
                row.try_get("", "id")?,
            ))
        })
        .collect()
}

/// The affected users' upsert, and their issues' user counts raised by the users new to
/// them.
async fn upsert_users(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    inserted: &[usize],
    stored: &[Stored],
) -> Result<(), DbErr> {
    use affected_user::Column as C;
    struct Seen<'a> {
        user: &'a EventUser,
        count: i64,
        first: i64,
        last: i64,
    }
    let mut users: BTreeMap<(i64, &str), Seen<'_>> = BTreeMap::new();
    for &index in inserted {
        let event = &batch[index];
        let Some(user) = &event.user else { continue };
        let seen = users
            .entry((stored[index].issue_id, user.key.as_str()))
            .or_insert(Seen {
                user,
                count: 0,
                first: event.timestamp,
                last: event.timestamp,
            });
        seen.count += 1;
        seen.first = seen.first.min(event.timestamp);
        if event.timestamp >= seen.last {
            seen.last = event.timestamp;
            seen.user = user;
        }
    }
    if users.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(affected_user::Entity).columns([
        C::IssueId,
        C::UserKey,
        C::UserId,
        C::Email,
        C::Username,
        C::Name,
        C::IpAddress,
        C::EventCount,
        C::FirstSeen,
        C::LastSeen,
    ]);
    for ((issue_id, key), seen) in &users {
        insert
            .values([
                (*issue_id).into(),
                (*key).to_owned().into(),
                seen.user.id.clone().into(),
                seen.user.email.clone().into(),
                seen.user.username.clone().into(),
                seen.user.name.clone().into(),
                seen.user.ip_address.clone().into(),
                seen.count.into(),
                seen.first.into(),
                seen.last.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let existing = |column: C| Expr::col((affected_user::Entity, column));
    let excluded = |column: C| Expr::col((Alias::new("excluded"), column));
    // What the latest event says, without losing what older ones said.
    let latest = |column: C| -> (C, SimpleExpr) {
        (
            column,
            Expr::case(excluded(column).is_not_null(), excluded(column))
                .finally(existing(column))
                .into(),
        )
    };
    insert.on_conflict(
        OnConflict::columns([C::IssueId, C::UserKey])
            .values([
                (
                    C::EventCount,
                    existing(C::EventCount).add(excluded(C::EventCount)),
                ),
                (
                    C::FirstSeen,
                    Expr::case(
                        excluded(C::FirstSeen).lt(existing(C::FirstSeen)),
                        excluded(C::FirstSeen),
                    )
                    .finally(existing(C::FirstSeen))
                    .into(),
                ),
                (
                    C::LastSeen,
                    Expr::case(
                        excluded(C::LastSeen).gt(existing(C::LastSeen)),
                        excluded(C::LastSeen),
                    )
                    .finally(existing(C::LastSeen))
                    .into(),
                ),
                latest(C::UserId),
                latest(C::Email),
                latest(C::Username),
                latest(C::Name),
                latest(C::IpAddress),
            ])
            .to_owned(),
    );
    insert.returning(Query::returning().columns([C::IssueId, C::UserKey, C::EventCount]));
    let rows = txn
        .query_all(txn.get_database_backend().build(&insert))
        .await?;
    // A user is new to its issue when its count is this batch's alone. Exact: the issue's
    // row is locked by its upsert, so no other writer adds users to it meanwhile.
    let mut new_users: BTreeMap<i64, i64> = BTreeMap::new();
    for row in rows {
        let issue_id: i64 = row.try_get("", "issue_id")?;
        let key: String = row.try_get("", "user_key")?;
        let count: i64 = row.try_get("", "event_count")?;
        if users
            .get(&(issue_id, key.as_str()))
            .is_some_and(|seen| seen.count == count)
        {
            *new_users.entry(issue_id).or_default() += 1;
        }
    }
    if new_users.is_empty() {
        return Ok(());
    }
    // One statement for all: `user_count + CASE WHEN id = .. THEN n .. END`.
    let mut cases = new_users.iter();
    let Some((first_issue, first_count)) = cases.next() else {
        return Ok(());
    };
    let mut added = Expr::case(issue::Column::Id.eq(*first_issue), Expr::val(*first_count));
    for (issue_id, count) in cases {
        added = added.case(issue::Column::Id.eq(*issue_id), Expr::val(*count));
    }
    let update = Query::update()
        .table(issue::Entity)
        .value(
            issue::Column::UserCount,
            Expr::col(issue::Column::UserCount)
                .add(Into::<SimpleExpr>::into(added.finally(Expr::val(0i64)))),
        )
        .and_where(issue::Column::Id.is_in(new_users.keys().copied()))
        .to_owned();
    txn.execute(txn.get_database_backend().build(&update))
        .await?;
    Ok(())
}

/// Events per issue since the time the rule asks about, for the issues it asks about:
/// one query for the batch.
async fn recent_counts(
    txn: &impl ConnectionTrait,
    facts: &[(usize, IngestFacts)],
    stored: &[Stored],
    rule: &dyn NotificationRule,
) -> Result<HashMap<i64, u64>, DbErr> {
    let mut any = sea_orm::Condition::any();
    let mut asked = false;
    for (trigger, fact) in facts {
        if let Some(since) = rule.count_since(fact) {
            asked = true;
            any = any.add(
                event::Column::IssueId
                    .eq(stored[*trigger].issue_id)
                    .and(event::Column::ReceivedAt.gte(since)),
            );
        }
    }
    if !asked {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = event::Entity::find()
        .select_only()
        .column(event::Column::IssueId)
        .column_as(event::Column::Id.count(), "events")
        .filter(any)
        .group_by(event::Column::IssueId)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(issue, count)| (issue, u64::try_from(count).unwrap_or(0)))
        .collect())
}
