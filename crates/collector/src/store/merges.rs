//! Merging issues that grouping split (and unmerging them): the merged issue's events,
//! affected users and counts join the target, its fingerprint becomes an alias so that
//! its new events join the target too, and every moved event remembers where it was
//! grouped, so that unmerging moves exactly those back.

use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};

use super::entities::{affected_user, event, issue, issue_alias, issue_tag};
use super::{Store, StoreError};

impl Store {
    /// Merges `sources` into `target_id` (all of `project_id`, none merged already);
    /// returns the target as it is now.
    pub async fn merge_issues(
        &self,
        project_id: i64,
        target_id: i64,
        sources: &[i64],
    ) -> Result<issue::Model, StoreError> {
        self.write(async |txn| {
            let target = live_issue(txn, project_id, target_id).await?;
            let mut event_count = target.event_count;
            // The merged issue's first and last seen, with the release and environment
            // of whichever issue was seen first and last.
            let mut first = (target.first_seen, target.first_release.clone());
            let mut last = (
                target.last_seen,
                target.last_release.clone(),
                target.last_environment.clone(),
            );
            for &source_id in sources.iter().filter(|&&id| id != target_id) {
                let source = live_issue(txn, project_id, source_id).await?;
                merge_one(txn, &target, &source).await?;
                event_count += source.event_count;
                if source.first_seen < first.0 {
                    first = (source.first_seen, source.first_release.clone());
                }
                if source.last_seen > last.0 {
                    last = (
                        source.last_seen,
                        source.last_release.clone(),
                        source.last_environment.clone(),
                    );
                }
            }
            let user_count = users_of(txn, target_id).await?;
            let mut active: issue::ActiveModel = target.into();
            active.event_count = Set(event_count);
            active.first_seen = Set(first.0);
            active.first_release = Set(first.1);
            active.last_seen = Set(last.0);
            active.last_release = Set(last.1);
            active.last_environment = Set(last.2);
            active.user_count = Set(user_count);
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// Takes `source_id` out of the issue it was merged into: its events (those stored
    /// before the merge and those that arrived through its fingerprint since) go back,
    /// with its affected users and counts. Users whose events retention deleted stay
    /// counted on the target.
    pub async fn unmerge_issue(
        &self,
        project_id: i64,
        source_id: i64,
    ) -> Result<issue::Model, StoreError> {
        self.write(async |txn| {
            let source = issue::Entity::find_by_id(source_id)
                .filter(issue::Column::ProjectId.eq(project_id))
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("issue {source_id}")))?;
            let Some(target_id) = source.merged_into else {
                return Err(StoreError::Conflict(format!(
                    "issue {source_id} is not merged"
                )));
            };
            let target = issue::Entity::find_by_id(target_id)
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("issue {target_id}")))?;
            let alias = issue_alias::Entity::find()
                .filter(issue_alias::Column::SourceIssueId.eq(source_id))
                .one(txn)
                .await?;
            let added = alias.as_ref().map_or(0, |a| a.events_added);
            let back = Query::update()
                .table(event::Entity)
                .value(event::Column::IssueId, source_id)
                .value(event::Column::GroupedAs, Option::<i64>::None)
                .and_where(event::Column::IssueId.eq(target_id))
                .and_where(event::Column::GroupedAs.eq(source_id))
                .to_owned();
            txn.execute(txn.get_database_backend().build(&back)).await?;
            restore_environments(txn, source_id).await?;
            // Its users, from its events: counted on it again, no longer on the target.
            let users: Vec<(Option<String>, i64, i64, i64)> = event::Entity::find()
                .select_only()
                .column(event::Column::UserKey)
                .column_as(event::Column::Id.count(), "events")
                .column_as(event::Column::Timestamp.min(), "first")
                .column_as(event::Column::Timestamp.max(), "last")
                .filter(event::Column::IssueId.eq(source_id))
                .filter(event::Column::UserKey.is_not_null())
                .group_by(event::Column::UserKey)
                .into_tuple()
                .all(txn)
                .await?;
            for (key, count, first, last) in users {
                let Some(key) = key else { continue };
                let Some(on_target) = affected_user::Entity::find()
                    .filter(affected_user::Column::IssueId.eq(target_id))
                    .filter(affected_user::Column::UserKey.eq(key.as_str()))
                    .one(txn)
                    .await?
                else {
                    continue;
                };
                affected_user::ActiveModel {
                    id: NotSet,
                    issue_id: Set(source_id),
                    user_key: Set(key),
                    user_id: Set(on_target.user_id.clone()),
                    email: Set(on_target.email.clone()),
                    username: Set(on_target.username.clone()),
                    name: Set(on_target.name.clone()),
                    ip_address: Set(on_target.ip_address.clone()),
                    event_count: Set(count),
                    first_seen: Set(first),
                    last_seen: Set(last),
                }
                .insert(txn)
                .await?;
                let left = on_target.event_count - count;
                if left > 0 {
                    let mut active: affected_user::ActiveModel = on_target.into();
                    active.event_count = Set(left);
                    active.update(txn).await?;
                } else {
                    affected_user::Entity::delete_by_id(on_target.id)
                        .exec(txn)
                        .await?;
                }
            }
            if let Some(alias) = alias {
                issue_alias::Entity::delete_by_id(alias.id)
                    .exec(txn)
                    .await?;
            }
            let source_events = source.event_count + added;
            let target_users = users_of(txn, target_id).await?;
            let source_users = users_of(txn, source_id).await?;
            let target_events = (target.event_count - source_events).max(0);
            let mut active: issue::ActiveModel = target.into();
            active.event_count = Set(target_events);
            active.user_count = Set(target_users);
            active.update(txn).await?;
            let mut active: issue::ActiveModel = source.into();
            active.merged_into = Set(None);
            active.event_count = Set(source_events);
            active.user_count = Set(source_users);
            Ok(active.update(txn).await?)
        })
        .await
    }

    /// The issues merged into `issue_id`.
    pub async fn merged_into(&self, issue_id: i64) -> Result<Vec<issue::Model>, StoreError> {
        Ok(issue::Entity::find()
            .filter(issue::Column::MergedInto.eq(issue_id))
            .all(self.db())
            .await?)
    }
}

/// An issue of `project_id` that is not merged into another.
async fn live_issue(
    txn: &impl ConnectionTrait,
    project_id: i64,
    issue_id: i64,
) -> Result<issue::Model, StoreError> {
    let found = issue::Entity::find_by_id(issue_id)
        .filter(issue::Column::ProjectId.eq(project_id))
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("issue {issue_id}")))?;
    if found.merged_into.is_some() {
        return Err(StoreError::Conflict(format!(
            "issue {issue_id} is merged already"
        )));
    }
    Ok(found)
}

/// Moves `source` into `target`: its aliases and merged issues, an alias for its own
/// fingerprint, its events (remembering it), its affected users; marks it merged.
async fn merge_one(
    txn: &impl ConnectionTrait,
    target: &issue::Model,
    source: &issue::Model,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let repoint = Query::update()
        .table(issue_alias::Entity)
        .value(issue_alias::Column::TargetIssueId, target.id)
        .value(
            issue_alias::Column::TargetFingerprint,
            target.fingerprint.clone(),
        )
        .and_where(issue_alias::Column::TargetIssueId.eq(source.id))
        .to_owned();
    txn.execute(backend.build(&repoint)).await?;
    let children = Query::update()
        .table(issue::Entity)
        .value(issue::Column::MergedInto, target.id)
        .and_where(issue::Column::MergedInto.eq(source.id))
        .to_owned();
    txn.execute(backend.build(&children)).await?;
    issue_alias::ActiveModel {
        id: NotSet,
        project_id: Set(source.project_id),
        fingerprint: Set(source.fingerprint.clone()),
        source_issue_id: Set(source.id),
        target_issue_id: Set(target.id),
        target_fingerprint: Set(target.fingerprint.clone()),
        events_added: Set(0),
    }
    .insert(txn)
    .await?;
    let events = Query::update()
        .table(event::Entity)
        .value(
            event::Column::GroupedAs,
            Expr::col(event::Column::GroupedAs).if_null(source.id),
        )
        .value(event::Column::IssueId, target.id)
        .and_where(event::Column::IssueId.eq(source.id))
        .to_owned();
    txn.execute(backend.build(&events)).await?;
    // Its search values join the target's (those the target has already stay once).
    let tags = format!(
        "INSERT INTO issue_tag (issue_id, key, value, last_seen) \
         SELECT {target}, key, value, last_seen FROM issue_tag WHERE issue_id = {source} \
         ON CONFLICT (issue_id, key, value) DO NOTHING",
        target = target.id,
        source = source.id
    );
    txn.execute_unprepared(&tags).await?;
    issue_tag::Entity::delete_many()
        .filter(issue_tag::Column::IssueId.eq(source.id))
        .exec(txn)
        .await?;
    let users = affected_user::Entity::find()
        .filter(affected_user::Column::IssueId.eq(source.id))
        .all(txn)
        .await?;
    for user in users {
        let existing = affected_user::Entity::find()
            .filter(affected_user::Column::IssueId.eq(target.id))
            .filter(affected_user::Column::UserKey.eq(user.user_key.as_str()))
            .one(txn)
            .await?;
        match existing {
            Some(existing) => {
                let newer = user.last_seen > existing.last_seen;
                let mut active: affected_user::ActiveModel = existing.clone().into();
                active.event_count = Set(existing.event_count + user.event_count);
                active.first_seen = Set(existing.first_seen.min(user.first_seen));
                active.last_seen = Set(existing.last_seen.max(user.last_seen));
                if newer {
                    active.email = Set(user.email.clone().or(existing.email));
                    active.name = Set(user.name.clone().or(existing.name));
                    active.username = Set(user.username.clone().or(existing.username));
                }
                active.update(txn).await?;
                affected_user::Entity::delete_by_id(user.id)
                    .exec(txn)
                    .await?;
            }
            None => {
                let mut active: affected_user::ActiveModel = user.into();
                active.issue_id = Set(target.id);
                active.update(txn).await?;
            }
        }
    }
    let mut active: issue::ActiveModel = source.clone().into();
    active.merged_into = Set(Some(target.id));
    active.update(txn).await?;
    Ok(())
}

/// How many users an issue has affected (its affected-user rows).
async fn users_of(txn: &impl ConnectionTrait, issue_id: i64) -> Result<i64, DbErr> {
    let count = affected_user::Entity::find()
        .filter(affected_user::Column::IssueId.eq(issue_id))
        .count(txn)
        .await?;
    Ok(i64::try_from(count).unwrap_or(i64::MAX))
}

/// The environments and releases of `issue_id`'s events, as its `issue_tag` rows (the
/// list's filters read them): an unmerged issue's rows went to the target at the merge,
/// and its events have just come back. The target keeps its copies: it may still have
/// events there, and a value too many in a filter is better than one missing.
async fn restore_environments(txn: &impl ConnectionTrait, issue_id: i64) -> Result<(), DbErr> {
    for (key, column) in [
        (issue_tag::ENVIRONMENT, event::Column::Environment),
        (issue_tag::RELEASE, event::Column::Release),
    ] {
        let seen: Vec<(String, i64)> = event::Entity::find()
            .select_only()
            .column(column)
            .column_as(event::Column::ReceivedAt.max(), "last_seen")
            .filter(event::Column::IssueId.eq(issue_id))
            .filter(column.is_not_null())
            .group_by(column)
            .into_tuple()
            .all(txn)
            .await?;
        if seen.is_empty() {
            continue;
        }
        let rows = seen
            .into_iter()
            .map(|(value, last_seen)| issue_tag::ActiveModel {
                id: NotSet,
                issue_id: Set(issue_id),
                key: Set(key.to_owned()),
                value: Set(value),
                last_seen: Set(last_seen),
            });
        issue_tag::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    issue_tag::Column::IssueId,
                    issue_tag::Column::Key,
                    issue_tag::Column::Value,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
