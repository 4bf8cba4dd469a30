//! Issues: the list with its filters and orders, one issue, its status, its affected
//! users, its events per day and its breakdown by release and environment.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Func, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::{
    EventLevel, FilterKind, IssueStatus, account, affected_user, event, filter_value, issue,
    issue_tag,
};
use super::{Store, StoreError, now_ms};

/// Sort orders of the issue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueSort {
    /// Most recently seen first (default).
    #[default]
    LastSeen,
    /// Newest issues first.
    FirstSeen,
    /// Most events first.
    Events,
    /// Most affected users first.
    Users,
}

impl std::str::FromStr for IssueSort {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "last_seen" => Ok(IssueSort::LastSeen),
            "first_seen" => Ok(IssueSort::FirstSeen),
            "events" => Ok(IssueSort::Events),
            "users" => Ok(IssueSort::Users),
            other => Err(format!(
                "unknown sort {other:?} (expected last_seen, first_seen, events or users)"
            )),
        }
    }
}

/// Filters of the issue list.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    /// Only this status.
    pub status: Option<IssueStatus>,
    /// Only issues with events in this environment.
    pub environment: Option<String>,
    /// Only issues with events in this release.
    pub release: Option<String>,
    /// Words each found in the title or culprit.
    pub words: Vec<String>,
    /// Only issues that affected the user with this email.
    pub user_email: Option<String>,
    /// Only issues that affected the user with this id, email, username or name.
    pub user: Option<String>,
    /// Only issues of this level.
    pub level: Option<EventLevel>,
    /// Only issues that came back after being resolved.
    pub regressed: bool,
    /// Only issues nobody is assigned to.
    pub unassigned: bool,
    /// Only issues assigned to the account with this email (lowercase).
    pub assigned_to: Option<String>,
    /// Order.
    pub sort: IssueSort,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u64,
}

/// Whether the issue has an affected user for whom `which` holds (correlated EXISTS).
fn affected_user_where(which: Condition) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(affected_user::Entity)
            .and_where(
                Expr::col((affected_user::Entity, affected_user::Column::IssueId))
                    .equals((issue::Entity, issue::Column::Id)),
            )
            .cond_where(which)
            .to_owned(),
    )
}

/// The UTC day number of an event's receive time.
const DAY: &str = "received_at / 86400000";

/// Stored events of an issue by release and by environment, most first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// (release, events), most events first.
    pub releases: Vec<(Option<String>, i64)>,
    /// (environment, events), most events first.
    pub environments: Vec<(Option<String>, i64)>,
}

/// How long an issue stays ignored (see [`Store::snooze_issue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snooze {
    /// Until this time (ms).
    Until(i64),
    /// Until this many more events.
    MoreEvents(i64),
    /// Until this many more affected users.
    MoreUsers(i64),
}

/// Issue `issue_id` (or not found), and its row to update with any snooze or "next
/// release" condition cleared: the start of every status change.
async fn unconditioned(
    txn: &impl ConnectionTrait,
    issue_id: i64,
) -> Result<(issue::ActiveModel, issue::Model), StoreError> {
    let issue = issue::Entity::find_by_id(issue_id)
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("issue {issue_id}")))?;
    let mut active: issue::ActiveModel = issue.clone().into();
    active.snooze_until = Set(None);
    active.snooze_events = Set(None);
    active.snooze_users = Set(None);
    active.resolved_in_release = Set(None);
    Ok((active, issue))
}

/// Issues counted per status tab at most (see [`Store::status_counts`]).
pub const STATUS_COUNT_CAP: i64 = 1000;

/// Most values offered in each of the issue list's selects.
const MAX_FILTER_VALUES: u64 = 200;

impl Store {
    /// The environments and the releases of a project's events, most recently seen
    /// first, for the list's selects (kept at ingest, see `filter_value`).
    pub async fn filter_values(
        &self,
        project_id: i64,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let mut found = Vec::with_capacity(2);
        for kind in [FilterKind::Environment, FilterKind::Release] {
            let values: Vec<String> = filter_value::Entity::find()
                .select_only()
                .column(filter_value::Column::Value)
                .filter(filter_value::Column::ProjectId.eq(project_id))
                .filter(filter_value::Column::Kind.eq(kind))
                .order_by_desc(filter_value::Column::LastSeen)
                .limit(MAX_FILTER_VALUES)
                .into_tuple()
                .all(self.db())
                .await?;
            found.push(values);
        }
        let releases = found.pop().unwrap_or_default();
        let environments = found.pop().unwrap_or_default();
        Ok((environments, releases))
    }

    /// How many issues a project has in each status (for the list's tabs), counted up
    /// to [`STATUS_COUNT_CAP`] (then shown as "1000+": an exact count of a hundred
    /// thousand issues on every page view is not worth its time); an empty map for a
    /// project that has none yet.
    pub async fn status_counts(
        &self,
        project_id: i64,
    ) -> Result<HashMap<IssueStatus, i64>, StoreError> {
        let mut counts = HashMap::new();
        for status in [
            IssueStatus::Unresolved,
            IssueStatus::Resolved,
            IssueStatus::Ignored,
        ] {
            let ids: Vec<i64> = issue::Entity::find()
                .select_only()
                .column(issue::Column::Id)
                .filter(issue::Column::ProjectId.eq(project_id))
                .filter(issue::Column::Status.eq(status))
                .filter(issue::Column::MergedInto.is_null())
                .limit(STATUS_COUNT_CAP as u64)
                .into_tuple()
                .all(self.db())
                .await?;
            if !ids.is_empty() {
                counts.insert(status, ids.len() as i64);
            }
        }
        Ok(counts)
    }

    /// Issues of a project, filtered, sorted and paged.
    pub async fn list_issues(
        &self,
        project_id: i64,
        filter: &IssueFilter,
    ) -> Result<Vec<issue::Model>, StoreError> {
        // Merged issues live on in the issue they joined.
        let mut condition = Condition::all()
            .add(issue::Column::ProjectId.eq(project_id))
            .add(issue::Column::MergedInto.is_null());
        if let Some(status) = filter.status {
            condition = condition.add(issue::Column::Status.eq(status));
        }
        for (key, value) in [
            (issue_tag::ENVIRONMENT, &filter.environment),
            (issue_tag::RELEASE, &filter.release),
        ] {
            if let Some(value) = value {
                // Correlated EXISTS: walking issues in list order and probing each one's
                // rows (index on issue_id, key, value) stops after a page.
                condition = condition.add(Expr::exists(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(issue_tag::Entity)
                        .and_where(
                            Expr::col((issue_tag::Entity, issue_tag::Column::IssueId))
                                .equals((issue::Entity, issue::Column::Id)),
                        )
                        .and_where(Expr::col((issue_tag::Entity, issue_tag::Column::Key)).eq(key))
                        .and_where(
                            Expr::col((issue_tag::Entity, issue_tag::Column::Value))
                                .eq(value.as_str()),
                        )
                        .to_owned(),
                ));
            }
        }
        for word in &filter.words {
            let pattern = format!("%{}%", escape_like(word));
            let like = || sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\');
            let user_like = Condition::any()
                .add(Expr::col((affected_user::Entity, affected_user::Column::Name)).like(like()))
                .add(Expr::col((affected_user::Entity, affected_user::Column::Email)).like(like()))
                .add(Expr::col((affected_user::Entity, affected_user::Column::UserId)).like(like()))
                .add(
                    Expr::col((affected_user::Entity, affected_user::Column::Username))
                        .like(like()),
                );
            condition = condition.add(
                Condition::any()
                    .add(Expr::col(issue::Column::Title).like(like()))
                    .add(Expr::col(issue::Column::Culprit).like(like()))
                    // An affected user's name, email, id or username.
                    .add(affected_user_where(user_like))
                    // A tag value or message of its events (not the environments and
                    // releases, which have their own filters).
                    .add(Expr::exists(
                        Query::select()
                            .expr(Expr::val(1))
                            .from(issue_tag::Entity)
                            .and_where(
                                Expr::col((issue_tag::Entity, issue_tag::Column::IssueId))
                                    .equals((issue::Entity, issue::Column::Id)),
                            )
                            .and_where(
                                Expr::col((issue_tag::Entity, issue_tag::Column::Key))
                                    .is_not_in([issue_tag::ENVIRONMENT, issue_tag::RELEASE]),
                            )
                            .and_where(
                                Expr::col((issue_tag::Entity, issue_tag::Column::Value))
                                    .like(like()),
                            )
                            .to_owned(),
                    )),
            );
        }
        if let Some(level) = filter.level {
            condition = condition.add(issue::Column::Level.eq(level));
        }
        if filter.regressed {
            condition = condition.add(issue::Column::RegressionCount.gt(0));
        }
        if filter.unassigned {
            condition = condition.add(issue::Column::AssigneeId.is_null());
        }
        if let Some(email) = &filter.assigned_to {
            condition = condition.add(
                issue::Column::AssigneeId.in_subquery(
                    Query::select()
                        .column(account::Column::Id)
                        .from(account::Entity)
                        .and_where(account::Column::Email.eq(email.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(user) = &filter.user {
            let lower = user.to_lowercase();
            let is = |column: affected_user::Column| {
                Expr::expr(Func::lower(Expr::col((affected_user::Entity, column))))
                    .eq(lower.as_str())
            };
            condition = condition.add(affected_user_where(
                Condition::any()
                    .add(is(affected_user::Column::UserId))
                    .add(is(affected_user::Column::Email))
                    .add(is(affected_user::Column::Username))
                    .add(is(affected_user::Column::Name)),
            ));
        }
        if let Some(email) = &filter.user_email {
            condition = condition.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(affected_user::Entity)
                    .and_where(
                        Expr::col((affected_user::Entity, affected_user::Column::IssueId))
                            .equals((issue::Entity, issue::Column::Id)),
                    )
                    .and_where(
                        Expr::expr(Func::lower(Expr::col((
                            affected_user::Entity,
                            affected_user::Column::Email,
                        ))))
                        .eq(email.to_lowercase()),
                    )
                    .to_owned(),
            ));
        }
        let mut query = issue::Entity::find().filter(condition);
        query = match filter.sort {
            IssueSort::LastSeen => query.order_by_desc(issue::Column::LastSeen),
            IssueSort::FirstSeen => query.order_by_desc(issue::Column::FirstSeen),
            IssueSort::Events => query.order_by_desc(issue::Column::EventCount),
            IssueSort::Users => query.order_by_desc(issue::Column::UserCount),
        };
        let query = query
            .order_by_desc(issue::Column::Id)
            .offset(filter.offset)
            .limit(filter.limit);
        // Shaped by whoever searches: bounded (see `Store::bounded_read`).
        self.bounded_read(project_id, async |db| Ok(query.all(db).await?))
            .await
    }

    /// One issue.
    pub async fn issue(&self, issue_id: i64) -> Result<Option<issue::Model>, StoreError> {
        Ok(issue::Entity::find_by_id(issue_id).one(self.db()).await?)
    }

    /// Sets an issue's status.
    pub async fn set_issue_status(
        &self,
        issue_id: i64,
        status: IssueStatus,
    ) -> Result<issue::Model, StoreError> {
        self.write(async |txn| {
            // A plain status change ends any snooze or "next release" condition.
            let (mut active, issue) = unconditioned(txn, issue_id).await?;
            active.status = Set(status);
            active.resolved_at = Set((status == IssueStatus::Resolved).then(now_ms));
            if status == IssueStatus::Resolved {
                active.resolved_release = Set(issue.last_release);
            }
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// Assigns issue `issue_id` to account `assignee` (none: unassigned), by ownership
    /// rule `rule` when one chose them.
    pub async fn assign_issue(
        &self,
        issue_id: i64,
        assignee: Option<i64>,
        rule: Option<&str>,
    ) -> Result<issue::Model, StoreError> {
        let rule = rule.map(str::to_owned);
        self.write(async |txn| {
            let issue = issue::Entity::find_by_id(issue_id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("issue {issue_id}")))?;
            let mut active: issue::ActiveModel = issue.into();
            active.assignee_id = Set(assignee);
            active.owner_rule = Set(rule);
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// Links (or, with none, unlinks) the ticket filed for issue `issue_id`.
    pub async fn set_ticket_url(
        &self,
        issue_id: i64,
        url: Option<&str>,
    ) -> Result<issue::Model, StoreError> {
        let url = url.map(str::to_owned);
        self.write(async |txn| {
            let issue = issue::Entity::find_by_id(issue_id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("issue {issue_id}")))?;
            let mut active: issue::ActiveModel = issue.into();
            active.ticket_url = Set(url);
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// A project's open issues nobody is assigned to, seen last first, at most `limit`.
    pub async fn unassigned_open_issues(
        &self,
        project_id: i64,
        limit: u64,
    ) -> Result<Vec<issue::Model>, StoreError> {
        Ok(issue::Entity::find()
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::Status.eq(IssueStatus::Unresolved))
            .filter(issue::Column::MergedInto.is_null())
            .filter(issue::Column::AssigneeId.is_null())
            .order_by_desc(issue::Column::LastSeen)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// Ignores an issue until `snooze` says it is back (see [`Snooze`]); ingest and
    /// [`Store::wake_snoozed`] bring it back.
    pub async fn snooze_issue(
        &self,
        issue_id: i64,
        snooze: Snooze,
    ) -> Result<issue::Model, StoreError> {
        self.write(async |txn| {
            let (mut active, issue) = unconditioned(txn, issue_id).await?;
            let (events, users) = (issue.event_count, issue.user_count);
            active.status = Set(IssueStatus::Ignored);
            active.resolved_at = Set(None);
            match snooze {
                Snooze::Until(at) => active.snooze_until = Set(Some(at)),
                Snooze::MoreEvents(more) => {
                    active.snooze_events = Set(Some(events.saturating_add(more.max(1))));
                }
                Snooze::MoreUsers(more) => {
                    active.snooze_users = Set(Some(users.saturating_add(more.max(1))));
                }
            }
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// Resolves an issue "in the next release": events of its latest release (or an
    /// older one) keep it resolved; the first event of a newer release reopens it. Without
    /// a release to go by, a plain resolve.
    pub async fn resolve_in_next_release(&self, issue_id: i64) -> Result<issue::Model, StoreError> {
        self.write(async |txn| {
            let (mut active, issue) = unconditioned(txn, issue_id).await?;
            active.status = Set(IssueStatus::Resolved);
            active.resolved_at = Set(Some(now_ms()));
            active.resolved_release = Set(issue.last_release.clone());
            active.resolved_in_release = Set(issue.last_release);
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// Brings back the ignored issues whose snooze date has passed (events and users are
    /// counted at ingest); returns them. The rows are locked first (`FOR UPDATE` on
    /// PostgreSQL), so with several collectors each issue comes back at one of them.
    pub async fn wake_snoozed(&self, now: i64) -> Result<Vec<i64>, StoreError> {
        self.write(async |txn| {
            let mut select = issue::Entity::find()
                .select_only()
                .column(issue::Column::Id)
                .filter(issue::Column::Status.eq(IssueStatus::Ignored))
                .filter(issue::Column::SnoozeUntil.lte(now))
                .order_by_asc(issue::Column::Id);
            if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
                select = select.lock_exclusive();
            }
            let due: Vec<i64> = select.into_tuple().all(txn).await?;
            if due.is_empty() {
                return Ok(due);
            }
            let statement = txn
                .get_database_backend()
                .build(&super::ingest::unsnooze(&due));
            txn.execute(statement).await?;
            Ok(due)
        })
        .await
    }

    /// Sets the status of the issues `ids` that belong to `project_id`, in one
    /// statement; returns the ids changed (those of other projects are left alone).
    pub async fn set_issues_status(
        &self,
        project_id: i64,
        ids: &[i64],
        status: IssueStatus,
    ) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(async |txn| {
            let mine: Vec<i64> = issue::Entity::find()
                .select_only()
                .column(issue::Column::Id)
                .filter(issue::Column::ProjectId.eq(project_id))
                .filter(issue::Column::Id.is_in(ids.iter().copied()))
                .order_by_asc(issue::Column::Id)
                .into_tuple()
                .all(txn)
                .await?;
            if mine.is_empty() {
                return Ok(mine);
            }
            let mut update = issue::Entity::update_many()
                .col_expr(issue::Column::Status, Expr::value(status))
                .col_expr(
                    issue::Column::ResolvedAt,
                    Expr::value((status == IssueStatus::Resolved).then(now_ms)),
                );
            if status == IssueStatus::Resolved {
                update = update.col_expr(
                    issue::Column::ResolvedRelease,
                    Expr::col(issue::Column::LastRelease).into(),
                );
            }
            update
                .col_expr(issue::Column::SnoozeUntil, Expr::value(Option::<i64>::None))
                .col_expr(
                    issue::Column::SnoozeEvents,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(issue::Column::SnoozeUsers, Expr::value(Option::<i64>::None))
                .col_expr(
                    issue::Column::ResolvedInRelease,
                    Expr::value(Option::<String>::None),
                )
                .filter(issue::Column::Id.is_in(mine.iter().copied()))
                .exec(txn)
                .await?;
            Ok(mine)
        })
        .await
    }

    /// An issue's affected users, most recent first.
    pub async fn issue_users(
        &self,
        issue_id: i64,
    ) -> Result<Vec<affected_user::Model>, StoreError> {
        Ok(affected_user::Entity::find()
            .filter(affected_user::Column::IssueId.eq(issue_id))
            .order_by_desc(affected_user::Column::LastSeen)
            .all(self.db())
            .await?)
    }

    /// Events per day (UTC) of each issue over the last `days` days, oldest day first.
    pub async fn daily_counts(
        &self,
        issue_ids: &[i64],
        days: i64,
    ) -> Result<HashMap<i64, Vec<u64>>, StoreError> {
        let today = now_ms().div_euclid(86_400_000);
        let start = today - days + 1;
        let rows: Vec<(i64, i64, i64)> = event::Entity::find()
            .select_only()
            .column(event::Column::IssueId)
            // A literal (not a bound parameter), so that PostgreSQL sees the same
            // expression in SELECT and GROUP BY.
            .column_as(Expr::cust(DAY), "day")
            .column_as(Expr::col(event::Column::Id).count(), "events")
            .filter(event::Column::IssueId.is_in(issue_ids.iter().copied()))
            .filter(event::Column::ReceivedAt.gte(start * 86_400_000))
            .group_by(event::Column::IssueId)
            .group_by(Expr::cust(DAY))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut counts: HashMap<i64, Vec<u64>> = issue_ids
            .iter()
            .map(|id| (*id, vec![0; usize::try_from(days).unwrap_or(0)]))
            .collect();
        for (issue_id, day, events) in rows {
            if let (Some(bars), Ok(slot)) =
                (counts.get_mut(&issue_id), usize::try_from(day - start))
                && let Some(bar) = bars.get_mut(slot)
            {
                *bar = u64::try_from(events).unwrap_or(0);
            }
        }
        Ok(counts)
    }

    /// Stored events of an issue by release and by environment, most first.
    pub async fn breakdown(&self, issue_id: i64) -> Result<Breakdown, StoreError> {
        let mut out = Vec::new();
        for column in [event::Column::Release, event::Column::Environment] {
            let mut rows: Vec<(Option<String>, i64)> = event::Entity::find()
                .select_only()
                .column(column)
                .column_as(Expr::col(event::Column::Id).count(), "events")
                .filter(event::Column::IssueId.eq(issue_id))
                .group_by(column)
                .into_tuple()
                .all(self.db())
                .await?;
            rows.sort_by_key(|row| std::cmp::Reverse(row.1));
            out.push(rows);
        }
        let environments = out.pop().unwrap_or_default();
        let releases = out.pop().unwrap_or_default();
        Ok(Breakdown {
            releases,
            environments,
        })
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
