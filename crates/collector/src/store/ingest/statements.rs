//! The statements of a batch's write, each one statement (or a fixed few) for the whole
//! batch, built with sea-query for SQLite and PostgreSQL alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::sea_query::{
    Alias, Expr, InsertStatement, IntoIden, OnConflict, Query, SimpleExpr, Value,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use super::groups::{Before, Group};
use super::model::{NewEvent, Stored};
use super::shapes;
use crate::store::entities::{
    FilterKind, IssueStatus, event, filter_value, issue, issue_alias, issue_tag,
};

/// The environments and releases of the batch's stored events, for the issue list's
/// selects: one upsert, newest time kept (exactly: "releases seen since" reads it).
pub(super) async fn upsert_filter_values(
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
        0,
        rows,
    )
    .await
}

/// The tag values (and messages) of the batch's stored events per issue, for search,
/// and their environments and releases, for the list's filters: one upsert, newest
/// time kept to within [`TAG_TIME_SLACK_MS`].
pub(super) async fn upsert_tags(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    inserted: &[usize],
    stored: &[Stored],
) -> Result<(), DbErr> {
    use issue_tag::Column as C;
    let mut seen: BTreeMap<(i64, &str, &str), i64> = BTreeMap::new();
    for &index in inserted {
        let event = &batch[index];
        let fields = [
            (issue_tag::ENVIRONMENT, event.environment.as_deref()),
            (issue_tag::RELEASE, event.release.as_deref()),
        ];
        let fields = fields
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)));
        // A tag sent under one of those keys is not kept: the event's field is the truth.
        let tags = event
            .tags
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .filter(|(key, _)| *key != issue_tag::ENVIRONMENT && *key != issue_tag::RELEASE);
        for (key, value) in tags.chain(fields) {
            let at = seen
                .entry((stored[index].issue_id, key, value))
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
        TAG_TIME_SLACK_MS,
        rows,
    )
    .await
}

/// How stale an issue's tag row's time may get before a batch writes it again. Those
/// times only age rows out at retention (days), so an hour late costs nothing there; and
/// not writing a row that is already there keeps its page out of the batch's commit. Most
/// events bring tags their issue already has, each on its own page, and every page a
/// batch dirties is copied to the log at commit and again at the checkpoint.
pub(super) const TAG_TIME_SLACK_MS: i64 = 3_600_000;

/// Rows of `entity` identified by their three `keys` values, each with the time it was
/// seen: one multi-row insert that, for a row already there, moves its time forward when
/// the new one is more than `slack` ms later, and otherwise leaves the row (and its page)
/// untouched. One `slack` per entity: the statement's text is kept per entity.
pub(super) async fn upsert_last_seen<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    entity: E,
    keys: [E::Column; 3],
    last_seen: E::Column,
    slack: i64,
    rows: Vec<([Value; 3], i64)>,
) -> Result<(), DbErr> {
    let values: Vec<Value> = rows
        .into_iter()
        .flat_map(|([a, b, c], at)| [a, b, c, at.into()])
        .collect();
    let [a, b, c] = keys;
    let statement = shapes::insert(
        txn.get_database_backend(),
        std::any::type_name::<E>(),
        entity,
        [a, b, c, last_seen],
        values,
        |insert| {
            let existing = Expr::col((entity, last_seen));
            let excluded = Expr::col((Alias::new("excluded"), last_seen));
            insert.on_conflict(
                OnConflict::columns(keys)
                    .value(last_seen, excluded.clone())
                    .action_and_where(excluded.gt(existing.add(slack)))
                    .to_owned(),
            );
        },
    )?;
    txn.execute(statement).await?;
    Ok(())
}

/// Ignored issues of the batch whose snooze ran out (the date passed, or their events or
/// users reached the count set) back to unresolved: one read of user counts when a
/// snooze counts users, one update. Returns the issues woken.
pub(super) async fn wake_snoozed(
    txn: &impl ConnectionTrait,
    groups: &BTreeMap<(i64, String), Group>,
    before: &HashMap<(i64, String), Before>,
    counts_after: &HashMap<(i64, String), i64>,
) -> Result<Vec<i64>, DbErr> {
    let snoozed: Vec<(&(i64, String), &Before)> =
        before.iter().filter(|(_, b)| b.snoozed()).collect();
    if snoozed.is_empty() {
        return Ok(Vec::new());
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
        return Ok(Vec::new());
    }
    txn.execute(txn.get_database_backend().build(&unsnooze(&woken)))
        .await?;
    Ok(woken)
}

/// Back to unresolved, snooze cleared, for `ids`.
pub(crate) fn unsnooze(ids: &[i64]) -> sea_orm::sea_query::UpdateStatement {
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
pub(super) async fn aliases_of(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    fresh: &[usize],
) -> Result<HashMap<(i64, String), issue_alias::Model>, DbErr> {
    if fresh.is_empty() {
        return Ok(HashMap::new());
    }
    let projects: BTreeSet<i64> = fresh.iter().map(|&i| batch[i].project_id).collect();
    let fingerprints: BTreeSet<&str> = fresh
        .iter()
        .map(|&i| batch[i].fingerprint.as_str())
        .collect();
    let statement = shapes::two_lists(
        txn.get_database_backend(),
        "aliases",
        projects.into_iter().map(Value::from).collect(),
        fingerprints.into_iter().map(Value::from),
        |projects, fingerprints| {
            Ok(issue_alias::Entity::find()
                .filter(issue_alias::Column::ProjectId.is_in(projects.iter().cloned()))
                .filter(issue_alias::Column::Fingerprint.is_in(fingerprints.iter().cloned()))
                .into_query())
        },
    )?;
    Ok(issue_alias::Entity::find()
        .from_raw_sql(statement)
        .all(txn)
        .await?
        .into_iter()
        .map(|alias| ((alias.project_id, alias.fingerprint.clone()), alias))
        .collect())
}

/// Counts, per alias, the events stored through it in this batch (unmerging gives them
/// back to the merged issue's count).
pub(super) async fn count_alias_events(
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
        if let Some(alias) = aliases.get(&(event.project_id, event.fingerprint.clone()))
            && rows.contains_key(&(event.project_id, event.event_id.clone()))
        {
            *added.entry(alias.id).or_default() += 1;
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
pub(super) async fn upsert_issues(
    txn: &impl ConnectionTrait,
    batch: &[NewEvent],
    groups: &BTreeMap<(i64, String), Group>,
) -> Result<Vec<(i64, String, i64, i64)>, DbErr> {
    use issue::Column as C;
    const COLUMNS: [C; 14] = [
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
    ];
    let mut values = Vec::with_capacity(groups.len() * COLUMNS.len());
    for group in groups.values() {
        let newest = &batch[group.newest];
        let oldest = &batch[group.oldest];
        values.extend([
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
        ]);
    }
    let statement = shapes::insert(
        txn.get_database_backend(),
        "upsert issues",
        issue::Entity,
        COLUMNS,
        values,
        upsert_issues_on_conflict,
    )?;
    let rows = txn.query_all(statement).await?;
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

/// The issues' upsert's conflict clause, and what it returns.
fn upsert_issues_on_conflict(insert: &mut InsertStatement) {
    use issue::Column as C;
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
                (C::EventCount, sum_of(issue::Entity, C::EventCount)),
                (C::FirstSeen, earlier_of(issue::Entity, C::FirstSeen)),
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
}

/// The events' insert, skipping ids stored already; returns the stored rows' ids by
/// (project, event id).
pub(super) async fn insert_events(
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
    const COLUMNS: [C; 11] = [
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
    ];
    let mut values = Vec::with_capacity(fresh.len() * COLUMNS.len());
    for &index in fresh {
        let event = &batch[index];
        values.extend([
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
        ]);
    }
    let statement = shapes::insert(
        txn.get_database_backend(),
        "insert events",
        event::Entity,
        COLUMNS,
        values,
        |insert| {
            insert
                .on_conflict(
                    OnConflict::columns([C::ProjectId, C::EventId])
                        .do_nothing()
                        .to_owned(),
                )
                .returning(Query::returning().columns([C::ProjectId, C::EventId, C::Id]));
        },
    )?;
    let rows = txn.query_all(statement).await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                (row.try_get("", "project_id")?, row.try_get("", "event_id")?),
                row.try_get("", "id")?,
            ))
        })
        .collect()
}

/// In an upsert's conflict clause, the incoming value of `column` (`excluded`) when
/// `incoming_wins` says so of the two, else the stored one in `table`.
fn keep<T, C>(table: T, column: C, incoming_wins: fn(Expr, Expr) -> SimpleExpr) -> SimpleExpr
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    let existing = || Expr::col((table, column));
    let excluded = || Expr::col((Alias::new("excluded"), column));
    Expr::case(incoming_wins(excluded(), existing()), excluded())
        .finally(existing())
        .into()
}

/// The earlier of the stored and the incoming time of `column` (a first seen).
pub(super) fn earlier_of<T, C>(table: T, column: C) -> SimpleExpr
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    keep(table, column, |incoming, stored| incoming.lt(stored))
}

/// The later of the stored and the incoming time of `column` (a last seen).
pub(super) fn later_of<T, C>(table: T, column: C) -> SimpleExpr
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    keep(table, column, |incoming, stored| incoming.gt(stored))
}

/// The stored count of `column` plus the incoming one.
pub(super) fn sum_of<T, C>(table: T, column: C) -> SimpleExpr
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    Expr::col((table, column)).add(Expr::col((Alias::new("excluded"), column)))
}
