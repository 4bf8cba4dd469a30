//! One batch on its way through [`write_batch`](super::write_batch): what each step
//! learned (duplicates, issues before and after, stored rows), kept on [`Batch`] so
//! that the steps read as the numbered list of the module's documentation.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sea_orm::sea_query::{Expr, Query, Value};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use super::alerts::{self, Alerting, Touched};
use super::groups::{Before, Group, IssueKey};
use super::model::{NewEvent, Stored};
use super::owners;
use super::shapes;
use super::statements;
use super::users;
use crate::alerts::rule::decide::Seen;
use crate::ownership::rules::Subject;
use crate::store::entities::{IssueStatus, event, issue, issue_alias};
use crate::store::outbox;

/// A batch and what the steps found out about it.
pub(super) struct Batch<'a> {
    /// The events, as received.
    pub(super) events: &'a [NewEvent],
    /// What storing each event did: the answer.
    pub(super) stored: Vec<Stored>,
    /// Events to store: not stored before, first of their id in the batch.
    fresh: Vec<usize>,
    /// The first index of each (project, event id) in the batch.
    first_of: HashMap<(i64, &'a str), usize>,
    /// Merged issues' fingerprints, by (project, fingerprint).
    aliases: HashMap<IssueKey, issue_alias::Model>,
    /// The batch's issues, in the fixed order rows are written in.
    groups: BTreeMap<IssueKey, Group>,
    /// Issue ids, once known.
    issue_ids: HashMap<IssueKey, i64>,
    /// The issues that existed before, as they were.
    before: HashMap<IssueKey, Before>,
    /// Each issue's event count after this batch's upsert.
    counts_after: HashMap<IssueKey, i64>,
    /// Stored events' row ids by (project, event id).
    rows: HashMap<(i64, String), i64>,
    /// Fresh events actually inserted (not raced by another collector).
    inserted: Vec<usize>,
    /// Ignored issues this batch woke.
    woken: HashSet<i64>,
}

impl<'a> Batch<'a> {
    pub(super) fn new(events: &'a [NewEvent]) -> Self {
        // Sized for the batch up front: grown from empty, they rehashed as they filled
        // (hashbrown's rehashing went from 7.3 M to 1.9 M instructions in 2,000 events).
        let n = events.len();
        Batch {
            events,
            stored: vec![Stored::default(); n],
            fresh: Vec::with_capacity(n),
            first_of: HashMap::with_capacity(n),
            aliases: HashMap::new(),
            groups: BTreeMap::new(),
            issue_ids: HashMap::with_capacity(n),
            before: HashMap::with_capacity(n),
            counts_after: HashMap::with_capacity(n),
            rows: HashMap::with_capacity(n),
            inserted: Vec::with_capacity(n),
            woken: HashSet::new(),
        }
    }

    /// The issue event `index` joins: its fingerprint, or the one its merged issue
    /// joined.
    fn issue_key(&self, index: usize) -> IssueKey {
        let event = &self.events[index];
        let fingerprint = self
            .aliases
            .get(&(event.project_id, event.fingerprint.clone()))
            .map_or(event.fingerprint.as_str(), |a| {
                a.target_fingerprint.as_str()
            });
        (event.project_id, fingerprint.to_owned())
    }

    /// 1. Duplicates: event ids already stored (they keep their issue), or earlier in
    ///    this batch; one select.
    pub(super) async fn skip_duplicates(
        &mut self,
        txn: &impl ConnectionTrait,
    ) -> Result<(), DbErr> {
        let projects: BTreeSet<i64> = self.events.iter().map(|e| e.project_id).collect();
        let statement = shapes::two_lists(
            txn.get_database_backend(),
            "known event ids",
            projects.into_iter().map(Value::from).collect(),
            self.events.iter().map(|e| e.event_id.as_str().into()),
            |projects, ids| {
                Ok(event::Entity::find()
                    .select_only()
                    .column(event::Column::ProjectId)
                    .column(event::Column::EventId)
                    .column(event::Column::IssueId)
                    // Both columns of the (project, event id) index, so that it is used.
                    .filter(event::Column::ProjectId.is_in(projects.iter().cloned()))
                    .filter(event::Column::EventId.is_in(ids.iter().cloned()))
                    .into_query())
            },
        )?;
        let mut known: HashMap<(i64, String), i64> = HashMap::with_capacity(self.events.len());
        for row in txn.query_all(statement).await? {
            let (project, id, issue) = row.try_get_many_by_index::<(i64, String, i64)>()?;
            known.insert((project, id), issue);
        }
        for (index, event) in self.events.iter().enumerate() {
            let key = (event.project_id, event.event_id.as_str());
            if let Some(issue_id) = known.get(&(event.project_id, event.event_id.clone())) {
                self.stored[index] = Stored::duplicate(*issue_id);
            } else if let std::collections::hash_map::Entry::Vacant(slot) = self.first_of.entry(key)
            {
                slot.insert(index);
                self.fresh.push(index);
            } else {
                self.stored[index].duplicate = true; // Its issue is filled in at step 5.
            }
        }
        Ok(())
    }

    /// Merged issues' fingerprints join the issue they were merged into (one select,
    /// none when the projects have no merges); then the fresh events by issue.
    pub(super) async fn group_by_issue(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        self.aliases = statements::aliases_of(txn, self.events, &self.fresh).await?;
        for position in 0..self.fresh.len() {
            let index = self.fresh[position];
            let event = &self.events[index];
            let key = self.issue_key(index);
            let group = self.groups.entry(key.clone()).or_insert_with(|| Group {
                project_id: event.project_id,
                fingerprint: key.1,
                events: Vec::new(),
                first_seen: event.timestamp,
                last_seen: event.timestamp,
                newest: index,
                oldest: index,
                received_at: event.received_at,
            });
            group.events.push(index);
            if event.timestamp >= self.events[group.newest].timestamp {
                group.newest = index;
            }
            if event.timestamp < self.events[group.oldest].timestamp {
                group.oldest = index;
            }
            group.first_seen = group.first_seen.min(event.timestamp);
            group.last_seen = group.last_seen.max(event.timestamp);
            group.received_at = group.received_at.max(event.received_at);
        }
        Ok(())
    }

    /// 2. The batch's issues that exist, locked in id order (`FOR UPDATE` on
    ///    PostgreSQL; SQLite's write transaction is exclusive anyway).
    pub(super) async fn lock_issues(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        if self.groups.is_empty() {
            return Ok(());
        }
        let projects: BTreeSet<i64> = self.groups.keys().map(|(p, _)| *p).collect();
        let fingerprints = self.groups.keys().map(|(_, f)| f.as_str().into()).collect();
        let backend = txn.get_database_backend();
        let projects = projects.into_iter().map(Value::from);
        let statement = shapes::two_lists(
            backend,
            "lock issues",
            fingerprints,
            projects,
            |fingerprints, projects| {
                let mut select = issue::Entity::find()
                    .select_only()
                    .column(issue::Column::Id)
                    .column(issue::Column::ProjectId)
                    .column(issue::Column::Fingerprint)
                    .column(issue::Column::Status)
                    .column(issue::Column::SnoozeUntil)
                    .column(issue::Column::SnoozeEvents)
                    .column(issue::Column::SnoozeUsers)
                    .column(issue::Column::ResolvedInRelease)
                    .filter(issue::Column::Fingerprint.is_in(fingerprints.iter().cloned()))
                    .filter(issue::Column::ProjectId.is_in(projects.iter().cloned()))
                    .order_by_asc(issue::Column::Id);
                if backend == sea_orm::DbBackend::Postgres {
                    select = select.lock_exclusive();
                }
                Ok(select.into_query())
            },
        )?;
        type Row = (
            i64,
            i64,
            String,
            IssueStatus,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let rows = txn.query_all(statement).await?;
        for row in rows {
            let (
                id,
                project_id,
                fingerprint,
                status,
                snooze_until,
                snooze_events,
                snooze_users,
                resolved_in_release,
            ) = row.try_get_many_by_index::<Row>()?;
            let key = (project_id, fingerprint);
            if self.groups.contains_key(&key) {
                self.issue_ids.insert(key.clone(), id);
                self.before.insert(
                    key,
                    Before {
                        id,
                        status,
                        snooze_until,
                        snooze_events,
                        snooze_users,
                        resolved_in_release,
                    },
                );
            }
        }
        Ok(())
    }

    /// 3. One multi-row upsert of the batch's issues, counts added atomically, first and
    ///    last seen, the newest event's title, level, release and environment.
    pub(super) async fn upsert_issues(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        if self.groups.is_empty() {
            return Ok(());
        }
        let upserted = statements::upsert_issues(txn, self.events, &self.groups).await?;
        for (project_id, fingerprint, id, event_count) in upserted {
            let key = (project_id, fingerprint);
            let Some(group) = self.groups.get(&key) else {
                continue;
            };
            // New when it did not exist a moment ago and holds only this batch's events
            // (another collector may have created it meanwhile).
            let new_issue =
                !self.before.contains_key(&key) && event_count == group.events.len() as i64;
            if let Some(&first) = group.events.first() {
                self.stored[first].new_issue = new_issue;
            }
            self.issue_ids.insert(key.clone(), id);
            self.counts_after.insert(key, event_count);
        }
        Ok(())
    }

    /// 4. One update reopening the resolved issues seen again (when resolved in the
    ///    next release, seen in a newer one): regressions.
    pub(super) async fn reopen_regressions(
        &mut self,
        txn: &impl ConnectionTrait,
    ) -> Result<(), DbErr> {
        let regressed: Vec<IssueKey> = self
            .before
            .iter()
            .filter(|(key, b)| {
                self.groups
                    .get(*key)
                    .is_some_and(|g| b.regressed_by(g, self.events))
            })
            .map(|(key, _)| key.clone())
            .collect();
        if regressed.is_empty() {
            return Ok(());
        }
        let at = self
            .groups
            .values()
            .map(|g| g.received_at)
            .max()
            .unwrap_or(0);
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
                issue::Column::Id.is_in(
                    regressed
                        .iter()
                        .filter_map(|k| self.issue_ids.get(k).copied()),
                ),
            )
            .to_owned();
        txn.execute(txn.get_database_backend().build(&reopen))
            .await?;
        for key in &regressed {
            if let Some(&first) = self.groups.get(key).and_then(|g| g.events.first()) {
                self.stored[first].regression = true;
            }
        }
        Ok(())
    }

    /// 5. One multi-row insert of the events (`ON CONFLICT DO NOTHING`): an event
    ///    another collector stored meanwhile is a duplicate, taken out of its issue's
    ///    count again; duplicates within the batch join their first copy's issue.
    pub(super) async fn insert_events(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        for position in 0..self.fresh.len() {
            let index = self.fresh[position];
            if let Some(&id) = self.issue_ids.get(&self.issue_key(index)) {
                self.stored[index].issue_id = id;
            }
        }
        let grouped_as: Vec<Option<i64>> = self
            .events
            .iter()
            .map(|event| {
                self.aliases
                    .get(&(event.project_id, event.fingerprint.clone()))
                    .map(|a| a.source_issue_id)
            })
            .collect();
        self.rows =
            statements::insert_events(txn, self.events, &self.fresh, &self.stored, &grouped_as)
                .await?;
        statements::count_alias_events(txn, self.events, &self.fresh, &self.rows, &self.aliases)
            .await?;
        let mut raced: BTreeMap<i64, i64> = BTreeMap::new();
        for &index in &self.fresh {
            let event = &self.events[index];
            if !self
                .rows
                .contains_key(&(event.project_id, event.event_id.clone()))
            {
                self.stored[index].duplicate = true;
                *raced.entry(self.stored[index].issue_id).or_default() += 1;
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
        for index in 0..self.events.len() {
            if self.stored[index].duplicate && self.stored[index].issue_id == 0 {
                let event = &self.events[index];
                let key = (event.project_id, event.event_id.as_str());
                if let Some(&first) = self.first_of.get(&key) {
                    self.stored[index].issue_id = self.stored[first].issue_id;
                }
            }
        }
        self.inserted = self
            .fresh
            .iter()
            .copied()
            .filter(|&i| !self.stored[i].duplicate)
            .collect();
        Ok(())
    }

    /// 6. What the stored events add beside themselves: one upsert of the affected
    ///    users (and one update of their issues' user counts), of the environments and
    ///    releases seen, and of the tag values for search.
    pub(super) async fn upsert_users_and_values(
        &self,
        txn: &impl ConnectionTrait,
    ) -> Result<(), DbErr> {
        users::upsert_users(txn, self.events, &self.inserted, &self.stored).await?;
        statements::upsert_filter_values(txn, self.events, &self.inserted).await?;
        statements::upsert_tags(txn, self.events, &self.inserted, &self.stored).await
    }

    /// 7. Ignored issues whose snooze ran out come back (only when the batch touches a
    ///    snoozed issue).
    pub(super) async fn wake_snoozed(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        let woken =
            statements::wake_snoozed(txn, &self.groups, &self.before, &self.counts_after).await?;
        self.woken.extend(woken);
        Ok(())
    }

    /// 7b. Each new issue's owner, by its project's ownership rules.
    pub(super) async fn assign_owners(&mut self, txn: &impl ConnectionTrait) -> Result<(), DbErr> {
        let mut issues = Vec::new();
        for group in self.groups.values() {
            let first = group.events[0];
            if !self.stored[first].new_issue {
                continue;
            }
            let event = &self.events[first];
            let Some(rules) = event.ownership.as_deref().filter(|r| !r.trim().is_empty()) else {
                continue;
            };
            issues.push(owners::NewIssue {
                issue_id: self.stored[first].issue_id,
                rules,
                subject: Subject {
                    paths: event.paths.clone(),
                    modules: event.modules.clone(),
                    url: event.url.clone(),
                    tags: event.tags.clone(),
                },
            });
        }
        if !issues.is_empty() {
            owners::assign(txn, issues).await?;
        }
        Ok(())
    }

    /// 8. The alerts the projects' rules fire, written to the outbox with when each
    ///    rule fired (its throttle).
    pub(super) async fn queue_alerts(
        &mut self,
        txn: &impl ConnectionTrait,
        alerting: Alerting,
    ) -> Result<(), DbErr> {
        let mut touched = Vec::new();
        for group in self.groups.values() {
            let Some(&trigger) = group
                .events
                .iter()
                .rev()
                .find(|&&i| !self.stored[i].duplicate)
            else {
                continue;
            };
            let first = &self.stored[group.events[0]];
            let event = &self.events[trigger];
            let issue_id = self.stored[trigger].issue_id;
            touched.push(Touched {
                trigger,
                project_id: event.project_id,
                issue_id,
                event_row_id: self
                    .rows
                    .get(&(event.project_id, event.event_id.clone()))
                    .copied(),
                received_at: group.received_at,
                seen: Seen {
                    new_issue: first.new_issue,
                    regression: first.regression,
                    reappeared: self.woken.contains(&issue_id),
                    level: event.level,
                    environment: event.environment.as_deref(),
                    release: event.release.as_deref(),
                    tags: &event.tags,
                    paths: &event.paths,
                    url: event.url.as_deref(),
                    latest_release: None,
                },
            });
        }
        let notices = alerts::decide(txn, &touched, alerting).await?;
        let queued = outbox::queue(txn, notices.iter().map(|(_, n)| n)).await?;
        for ((trigger, _), count) in notices.iter().zip(queued) {
            self.stored[*trigger].notifications += count;
        }
        Ok(())
    }
}
