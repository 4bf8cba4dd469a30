//! The batch's affected users: one upsert of (issue, user) rows, whose `RETURNING` tells
//! which users are new to an issue, and one update raising those issues' user counts.

use std::collections::BTreeMap;

use sea_orm::sea_query::{
    Alias, Expr, InsertStatement, OnConflict, Query, SimpleExpr, UpdateStatement, Value,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr};

use super::model::{EventUser, NewEvent, Stored};
use super::shapes;
use super::statements::{earlier_of, later_of, sum_of};
use crate::store::entities::{affected_user, issue};

/// The affected users' upsert, and their issues' user counts raised by the users new to
/// them.
pub(super) async fn upsert_users(
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
    const COLUMNS: [C; 10] = [
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
    ];
    let mut values = Vec::with_capacity(users.len() * COLUMNS.len());
    for ((issue_id, key), seen) in &users {
        values.extend([
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
        ]);
    }
    let statement = shapes::insert(
        txn.get_database_backend(),
        "upsert affected users",
        affected_user::Entity,
        COLUMNS,
        values,
        upsert_users_on_conflict,
    )?;
    let rows = txn.query_all(statement).await?;
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
    add_user_counts(txn, &new_users).await
}

/// The affected users' upsert's conflict clause, and what it returns.
fn upsert_users_on_conflict(insert: &mut InsertStatement) {
    use affected_user::Column as C;
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
                (C::EventCount, sum_of(affected_user::Entity, C::EventCount)),
                (
                    C::FirstSeen,
                    earlier_of(affected_user::Entity, C::FirstSeen),
                ),
                (C::LastSeen, later_of(affected_user::Entity, C::LastSeen)),
                latest(C::UserId),
                latest(C::Email),
                latest(C::Username),
                latest(C::Name),
                latest(C::IpAddress),
            ])
            .to_owned(),
    );
    insert.returning(Query::returning().columns([C::IssueId, C::UserKey, C::EventCount]));
}

/// The issues' user counts raised by the users new to them (`new_users`: how many, by
/// issue).
async fn add_user_counts(
    txn: &impl ConnectionTrait,
    new_users: &BTreeMap<i64, i64>,
) -> Result<(), DbErr> {
    if new_users.is_empty() {
        return Ok(());
    }
    // One statement for all: `user_count + CASE WHEN id = .. THEN n .. END`, its
    // values each issue and its count, the `ELSE 0`, then the issues again (`IN`).
    let values: Vec<Value> = (new_users.iter())
        .flat_map(|(&id, &count)| [Value::from(id), Value::from(count)])
        .chain([Value::from(0i64)])
        .chain(new_users.keys().map(|&id| Value::from(id)))
        .collect();
    let n = new_users.len();
    let statement = shapes::statement(
        txn.get_database_backend(),
        "add user counts",
        [n, 0],
        values,
        |values| user_count_update(values, n),
    )?;
    txn.execute(statement).await?;
    Ok(())
}

/// The update of [`add_user_counts`] for `n` issues, from its values in the order the
/// text uses them: each issue and its count, the `ELSE`'s 0, then the issues again.
fn user_count_update(values: &[Value], n: usize) -> Result<UpdateStatement, DbErr> {
    let (cases, rest) = values.split_at_checked(2 * n).unwrap_or((values, &[]));
    let mut pairs = cases.chunks(2);
    let (Some([first_issue, first_count]), Some((otherwise, ids))) =
        (pairs.next(), rest.split_first())
    else {
        return Err(DbErr::Custom("no issue to add users to".into()));
    };
    let mut added = Expr::case(
        issue::Column::Id.eq(first_issue.clone()),
        Expr::val(first_count.clone()),
    );
    for pair in pairs {
        if let [issue_id, count] = pair {
            added = added.case(
                issue::Column::Id.eq(issue_id.clone()),
                Expr::val(count.clone()),
            );
        }
    }
    Ok(Query::update()
        .table(issue::Entity)
        .value(
            issue::Column::UserCount,
            Expr::col(issue::Column::UserCount).add(Into::<SimpleExpr>::into(
                added.finally(Expr::val(otherwise.clone())),
            )),
        )
        .and_where(issue::Column::Id.is_in(ids.iter().cloned()))
        .to_owned())
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    #[test]
    fn the_user_count_update_takes_its_values_in_the_order_given() {
        // The order `add_user_counts` supplies them: only then is its text kept per shape.
        let values: Vec<Value> = [7i64, 2, 9, 1, 0, 7, 9]
            .into_iter()
            .map(Value::from)
            .collect();
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let built = backend.build(&user_count_update(&values, 2).expect("built"));
            assert_eq!(built.values.map(|v| v.0), Some(values.clone()));
            assert!(built.sql.contains("CASE WHEN"), "{}", built.sql);
        }
        assert!(user_count_update(&[], 0).is_err());
    }
}
