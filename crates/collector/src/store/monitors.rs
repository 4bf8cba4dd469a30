//! Monitors and their results (check-ins, checks, sitemap runs). A monitor's row is
//! changed only inside [`Store::change_monitor`], which locks it (`FOR UPDATE` on
//! PostgreSQL, the write turn on SQLite) so that check-ins arriving at two collectors, or
//! two schedulers due at once, apply one after the other; schedulers skip a row another
//! holds (`SKIP LOCKED`) and find it no longer due.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Asterisk, Expr, LockBehavior, LockType, OnConflict, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{
    CheckOutcome, MonitorKind, NotificationKind, monitor, monitor_checkin, project,
};
use super::error::db_conflict;
use super::{Store, StoreError};

/// What a change of a monitor writes, decided by the caller from the locked row.
#[derive(Debug, Clone)]
pub struct MonitorChange {
    /// The monitor's new row (same id).
    pub monitor: monitor::Model,
    /// A result to insert (`id` ignored) or update (same id).
    pub result: Option<ResultWrite>,
    /// Notifications to queue: why, and what they say (JSON).
    pub notices: Vec<(NotificationKind, String)>,
}

/// A result row to write.
#[derive(Debug, Clone)]
pub enum ResultWrite {
    /// A new check-in, check or run.
    Insert(monitor_checkin::Model),
    /// A run that started earlier and ended now.
    Update(monitor_checkin::Model),
}

/// An uptime check or sitemap run that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCheck {
    /// The monitor.
    pub id: i64,
    /// Its project.
    pub project_id: i64,
    /// When it fell due (the claim checks it is unchanged).
    pub due: i64,
}

/// Where a monitor's results stand over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uptime {
    /// Successful results.
    pub ok: u64,
    /// Finished results (in-progress runs are not counted).
    pub total: u64,
}

impl Uptime {
    /// Percent successful, `None` without results.
    pub fn percent(self) -> Option<f64> {
        (self.total > 0).then(|| self.ok as f64 * 100.0 / self.total as f64)
    }
}

impl Store {
    /// A project's monitors, by name.
    pub async fn monitors(&self, project_id: i64) -> Result<Vec<monitor::Model>, StoreError> {
        Ok(monitor::Entity::find()
            .filter(monitor::Column::ProjectId.eq(project_id))
            .order_by_asc(monitor::Column::Name)
            .order_by_asc(monitor::Column::Id)
            .all(self.db())
            .await?)
    }

    /// One monitor.
    pub async fn monitor(&self, id: i64) -> Result<monitor::Model, StoreError> {
        monitor::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("monitor {id}")))
    }

    /// A project's monitor by slug.
    pub async fn monitor_by_slug(
        &self,
        project_id: i64,
        slug: &str,
    ) -> Result<Option<monitor::Model>, StoreError> {
        Ok(find_by_slug(self.db(), project_id, slug).await?)
    }

    /// Creates `row` (its id ignored); a taken slug is a conflict, and so is a project
    /// with `max_per_project` monitors already ([`StoreError::AtLimit`]).
    pub async fn create_monitor(
        &self,
        row: monitor::Model,
        max_per_project: u64,
    ) -> Result<monitor::Model, StoreError> {
        let slug = row.slug.clone();
        let project_id = row.project_id;
        self.write(async |txn| {
            let count = count_for_create(txn, project_id).await?;
            if count >= max_per_project {
                return Err(at_limit(count, max_per_project));
            }
            let mut active = row.into_active_model().reset_all();
            active.id = NotSet;
            active
                .insert(txn)
                .await
                .map_err(|e| db_conflict(e, &format!("a monitor named {slug}")))
        })
        .await
    }

    /// Locks monitor `id` for one transaction, lets `decide` look at it (and at its
    /// result with `check_in_id`, if any) and writes what it decides: the monitor's row,
    /// a result, notifications. `decide` returning `None` writes nothing. With
    /// `skip_locked`, a row another transaction holds is skipped (`None`) rather than
    /// waited for. Returns the monitor as written.
    pub async fn change_monitor(
        &self,
        id: i64,
        check_in_id: Option<String>,
        skip_locked: bool,
        decide: impl FnOnce(&monitor::Model, Option<&monitor_checkin::Model>) -> Option<MonitorChange>
        + Send,
    ) -> Result<Option<monitor::Model>, StoreError> {
        self.write(async |txn| {
            Ok(change_monitor_in(txn, id, check_in_id, skip_locked, decide).await?)
        })
        .await
    }

    /// Cron monitors not paused whose check-in is overdue at `now`: `(id, due at)`, the
    /// most overdue first, at most `limit`. Asked apart from checks, so that no number
    /// of due uptime checks delays a missed job.
    pub async fn due_crons(&self, now: i64, limit: u64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(monitor::Entity::find()
            .select_only()
            .column(monitor::Column::Id)
            .column(monitor::Column::NextDueAt)
            .filter(monitor::Column::Kind.eq(MonitorKind::Cron))
            .filter(monitor::Column::Paused.eq(false))
            .filter(monitor::Column::NextDueAt.lte(now))
            .order_by_asc(monitor::Column::NextDueAt)
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?)
    }

    /// Uptime checks and sitemap runs not paused that are due at `now`: at most
    /// `per_project` of each project (its most overdue), at most `limit` in all, the most
    /// overdue first. Per project, so that one project's always-due checks never
    /// crowd out another's.
    pub async fn due_checks(
        &self,
        now: i64,
        per_project: u64,
        limit: u64,
    ) -> Result<Vec<DueCheck>, StoreError> {
        let ranked = Query::select()
            .columns([
                monitor::Column::Id,
                monitor::Column::ProjectId,
                monitor::Column::NextDueAt,
            ])
            .expr_as(
                Expr::cust("ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY next_due_at, id)"),
                Alias::new("place"),
            )
            .from(monitor::Entity)
            .and_where(monitor::Column::Kind.ne(MonitorKind::Cron))
            .and_where(monitor::Column::Paused.eq(false))
            .and_where(monitor::Column::NextDueAt.lte(now))
            .to_owned();
        let due = Query::select()
            .columns([
                Alias::new("id"),
                Alias::new("project_id"),
                Alias::new("next_due_at"),
            ])
            .from_subquery(ranked, Alias::new("ranked"))
            .and_where(Expr::col(Alias::new("place")).lte(per_project))
            .order_by(Alias::new("next_due_at"), Order::Asc)
            .order_by(Alias::new("id"), Order::Asc)
            .limit(limit)
            .to_owned();
        let statement = self.db().get_database_backend().build(&due);
        let rows = self.db().query_all(statement).await?;
        rows.iter()
            .map(|row| {
                Ok(DueCheck {
                    id: row.try_get("", "id")?,
                    project_id: row.try_get("", "project_id")?,
                    due: row.try_get("", "next_due_at")?,
                })
            })
            .collect()
    }

    /// The `check_in_id` of a monitor's latest run still in progress.
    pub async fn latest_running(&self, monitor_id: i64) -> Result<Option<String>, StoreError> {
        Ok(latest_running_in(self.db(), monitor_id).await?)
    }

    /// Runs still in progress past their maximum runtime at `now`, at most `limit`.
    pub async fn overdue_runs(
        &self,
        now: i64,
        limit: u64,
    ) -> Result<Vec<monitor_checkin::Model>, StoreError> {
        Ok(monitor_checkin::Entity::find()
            .filter(monitor_checkin::Column::Status.eq(CheckOutcome::InProgress))
            .filter(monitor_checkin::Column::TimeoutAt.lte(now))
            .order_by_asc(monitor_checkin::Column::TimeoutAt)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// A monitor's results, newest first, at most `limit`, started before `before` when
    /// given (paging).
    pub async fn monitor_results(
        &self,
        monitor_id: i64,
        limit: u64,
        before: Option<i64>,
    ) -> Result<Vec<monitor_checkin::Model>, StoreError> {
        let mut select = monitor_checkin::Entity::find()
            .filter(monitor_checkin::Column::MonitorId.eq(monitor_id));
        if let Some(before) = before {
            select = select.filter(monitor_checkin::Column::StartedAt.lt(before));
        }
        Ok(select
            .order_by_desc(monitor_checkin::Column::StartedAt)
            .order_by_desc(monitor_checkin::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// The `per_monitor` latest results of each of `monitor_ids`, newest first: one
    /// query (a window over each monitor's results) however many monitors a page shows.
    pub async fn recent_results(
        &self,
        monitor_ids: &[i64],
        per_monitor: u64,
    ) -> Result<HashMap<i64, Vec<monitor_checkin::Model>>, StoreError> {
        let mut found: HashMap<i64, Vec<monitor_checkin::Model>> = HashMap::new();
        if monitor_ids.is_empty() {
            return Ok(found);
        }
        let ranked = Query::select()
            .column(Asterisk)
            .expr_as(
                Expr::cust(
                    "ROW_NUMBER() OVER (PARTITION BY monitor_id ORDER BY started_at DESC, id DESC)",
                ),
                Alias::new("place"),
            )
            .from(monitor_checkin::Entity)
            .and_where(monitor_checkin::Column::MonitorId.is_in(monitor_ids.iter().copied()))
            .to_owned();
        let latest = Query::select()
            .column(Asterisk)
            .from_subquery(ranked, Alias::new("ranked"))
            .and_where(Expr::col(Alias::new("place")).lte(per_monitor))
            .order_by(Alias::new("monitor_id"), Order::Asc)
            .order_by(Alias::new("place"), Order::Asc)
            .to_owned();
        let statement = self.db().get_database_backend().build(&latest);
        for row in monitor_checkin::Entity::find()
            .from_raw_sql(statement)
            .all(self.db())
            .await?
        {
            found.entry(row.monitor_id).or_default().push(row);
        }
        Ok(found)
    }

    /// Where each of `monitor_ids` stands since `since`, in one query (monitors without
    /// finished results are absent).
    pub async fn uptimes(
        &self,
        monitor_ids: &[i64],
        since: i64,
    ) -> Result<HashMap<i64, Uptime>, StoreError> {
        if monitor_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, i64, Option<i64>)> = monitor_checkin::Entity::find()
            .select_only()
            .column(monitor_checkin::Column::MonitorId)
            .column_as(monitor_checkin::Column::Id.count(), "total")
            .column_as(
                Expr::cust("SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END)"),
                "ok",
            )
            .filter(monitor_checkin::Column::MonitorId.is_in(monitor_ids.iter().copied()))
            .filter(monitor_checkin::Column::StartedAt.gte(since))
            .filter(monitor_checkin::Column::Status.ne(CheckOutcome::InProgress))
            .group_by(monitor_checkin::Column::MonitorId)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, total, ok)| {
                let uptime = Uptime {
                    ok: u64::try_from(ok.unwrap_or(0)).unwrap_or(0),
                    total: u64::try_from(total).unwrap_or(0),
                };
                (id, uptime)
            })
            .collect())
    }

    /// Successful and finished results of a monitor since `since`.
    pub async fn monitor_uptime(&self, monitor_id: i64, since: i64) -> Result<Uptime, StoreError> {
        let finished = monitor_checkin::Entity::find()
            .filter(monitor_checkin::Column::MonitorId.eq(monitor_id))
            .filter(monitor_checkin::Column::StartedAt.gte(since))
            .filter(monitor_checkin::Column::Status.ne(CheckOutcome::InProgress));
        let total = finished.clone().count(self.db()).await?;
        let ok = finished
            .filter(monitor_checkin::Column::Status.eq(CheckOutcome::Ok))
            .count(self.db())
            .await?;
        Ok(Uptime { ok, total })
    }

    /// Removes a monitor and its results; `false` when there was none.
    pub async fn delete_monitor(&self, id: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            monitor_checkin::Entity::delete_many()
                .filter(monitor_checkin::Column::MonitorId.eq(id))
                .exec(txn)
                .await?;
            let deleted = monitor::Entity::delete_by_id(id).exec(txn).await?;
            Ok(deleted.rows_affected > 0)
        })
        .await
    }

    /// Deletes results that started before `before`; returns how many.
    pub async fn prune_monitor_results(&self, before: i64) -> Result<u64, StoreError> {
        self.write(async |txn| {
            let deleted = monitor_checkin::Entity::delete_many()
                .filter(monitor_checkin::Column::StartedAt.lt(before))
                .filter(monitor_checkin::Column::Status.ne(CheckOutcome::InProgress))
                .exec(txn)
                .await?;
            Ok(deleted.rows_affected)
        })
        .await
    }
}

/// What [`ensure_monitor_in`] found.
#[derive(Debug)]
pub(crate) enum Ensured {
    /// The monitor, found or just created.
    Found(Box<monitor::Model>),
    /// Not there, and its project has this many monitors, the most allowed.
    AtLimit(u64),
}

/// The error of a project with `count` monitors, the most allowed.
pub(crate) fn at_limit(count: u64, max_per_project: u64) -> StoreError {
    StoreError::AtLimit(format!(
        "this project has {count} monitors, the most allowed \
         (MAYDAY_MAX_MONITORS_PER_PROJECT={max_per_project}); remove one or raise the setting"
    ))
}

/// A project's monitor by slug, on `db`.
async fn find_by_slug(
    db: &impl ConnectionTrait,
    project_id: i64,
    slug: &str,
) -> Result<Option<monitor::Model>, DbErr> {
    monitor::Entity::find()
        .filter(monitor::Column::ProjectId.eq(project_id))
        .filter(monitor::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// How many monitors project `project_id` has, counted in `txn` so that collectors
/// creating at once stay under the most (the project's row locked on PostgreSQL; SQLite's
/// write turn does this by itself).
async fn count_for_create(txn: &impl ConnectionTrait, project_id: i64) -> Result<u64, DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        project::Entity::find_by_id(project_id)
            .lock_exclusive()
            .one(txn)
            .await?;
    }
    // A plain COUNT rather than the paginator's, which reads SQLite's count as an i32
    // that the writer thread's rows (integers as i64) do not give.
    let count: Option<i64> = monitor::Entity::find()
        .select_only()
        .column_as(Expr::col(monitor::Column::Id).count(), "monitors")
        .filter(monitor::Column::ProjectId.eq(project_id))
        .into_tuple()
        .one(txn)
        .await?;
    Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// In a write transaction: the monitor with `row`'s slug in its project, created from
/// `row` when there is none, unless the project has `max_per_project` already. A monitor
/// another collector creates at the same moment is found, not refused (`ON CONFLICT DO
/// NOTHING`, which leaves the transaction usable on PostgreSQL).
pub(crate) async fn ensure_monitor_in(
    txn: &impl ConnectionTrait,
    row: monitor::Model,
    max_per_project: u64,
) -> Result<Ensured, DbErr> {
    let (project_id, slug) = (row.project_id, row.slug.clone());
    if let Some(found) = find_by_slug(txn, project_id, &slug).await? {
        return Ok(Ensured::Found(Box::new(found)));
    }
    let count = count_for_create(txn, project_id).await?;
    if count >= max_per_project {
        return Ok(Ensured::AtLimit(count));
    }
    let mut active = row.into_active_model().reset_all();
    active.id = NotSet;
    monitor::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([monitor::Column::ProjectId, monitor::Column::Slug])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(txn)
        .await?;
    find_by_slug(txn, project_id, &slug)
        .await?
        .map(|found| Ensured::Found(Box::new(found)))
        .ok_or_else(|| DbErr::RecordNotFound(format!("monitor {slug}")))
}

/// One monitor, on `db`.
pub(crate) async fn monitor_in(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<monitor::Model>, DbErr> {
    monitor::Entity::find_by_id(id).one(db).await
}

/// The check-in id of the monitor's latest run still in progress, on `db`.
pub(crate) async fn latest_running_in(
    db: &impl ConnectionTrait,
    monitor_id: i64,
) -> Result<Option<String>, DbErr> {
    let found: Option<Option<String>> = monitor_checkin::Entity::find()
        .select_only()
        .column(monitor_checkin::Column::CheckInId)
        .filter(monitor_checkin::Column::MonitorId.eq(monitor_id))
        .filter(monitor_checkin::Column::Status.eq(CheckOutcome::InProgress))
        .order_by_desc(monitor_checkin::Column::StartedAt)
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.flatten())
}

/// [`Store::change_monitor`]'s work, in a write transaction `txn` of the caller's.
pub(crate) async fn change_monitor_in(
    txn: &impl ConnectionTrait,
    id: i64,
    check_in_id: Option<String>,
    skip_locked: bool,
    decide: impl FnOnce(&monitor::Model, Option<&monitor_checkin::Model>) -> Option<MonitorChange>,
) -> Result<Option<monitor::Model>, DbErr> {
    let mut select = monitor::Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = if skip_locked {
            select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        } else {
            select.lock_exclusive()
        };
    }
    let Some(current) = select.one(txn).await? else {
        return Ok(None);
    };
    let existing = match &check_in_id {
        Some(check_in_id) => {
            monitor_checkin::Entity::find()
                .filter(monitor_checkin::Column::MonitorId.eq(id))
                .filter(monitor_checkin::Column::CheckInId.eq(check_in_id.as_str()))
                .one(txn)
                .await?
        }
        None => None,
    };
    let Some(change) = decide(&current, existing.as_ref()) else {
        return Ok(None);
    };
    let mut active = change.monitor.clone().into_active_model().reset_all();
    active.id = Set(id);
    let written = active.update(txn).await?;
    match change.result {
        Some(ResultWrite::Insert(row)) => {
            let mut active = row.into_active_model().reset_all();
            active.id = NotSet;
            active.monitor_id = Set(id);
            active.insert(txn).await?;
        }
        Some(ResultWrite::Update(row)) => {
            row.into_active_model().reset_all().update(txn).await?;
        }
        None => {}
    }
    for (kind, detail) in &change.notices {
        super::outbox::queue_monitor(txn, &written, *kind, detail).await?;
    }
    Ok(Some(written))
}
