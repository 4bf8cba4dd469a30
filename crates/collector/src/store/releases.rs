//! Release health and deploys: request counts added per minute bucket with one upsert
//! (so two collectors adding at once keep exact counts), rolled up into hour buckets
//! after a day; deploys recorded as they are told.

use sea_orm::IdenStatic;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};

use super::entities::{BucketSpan, deploy, issue, release_health};
use super::{Store, StoreError};

/// A minute, in ms.
pub const MINUTE_MS: i64 = 60_000;
/// An hour, in ms.
const HOUR_MS: i64 = 3_600_000;

/// Counts to add to one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthCount {
    pub release: String,
    /// "" when none was named.
    pub environment: String,
    /// "" when the sender names no route.
    pub route: String,
    /// Any time in the minute.
    pub at: i64,
    pub ok: i64,
    pub errored: i64,
    pub crashed: i64,
}

/// Request totals of a release (or of a route of one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// The release, or the route.
    pub key: String,
    pub ok: i64,
    pub errored: i64,
    pub crashed: i64,
    /// The first and last bucket with requests.
    pub first: i64,
    pub last: i64,
}

impl Totals {
    /// Every request counted.
    pub fn requests(&self) -> i64 {
        self.ok + self.errored + self.crashed
    }
}

impl Store {
    /// Adds `counts` to `project_id`'s minute buckets.
    pub async fn add_health(
        &self,
        project_id: i64,
        counts: &[HealthCount],
    ) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let rows: Vec<release_health::ActiveModel> = counts
            .iter()
            .map(|c| release_health::ActiveModel {
                project_id: Set(project_id),
                release: Set(c.release.clone()),
                environment: Set(c.environment.clone()),
                route: Set(c.route.clone()),
                bucket_start: Set(c.at - c.at.rem_euclid(MINUTE_MS)),
                span: Set(BucketSpan::Minute),
                ok: Set(c.ok),
                errored: Set(c.errored),
                crashed: Set(c.crashed),
            })
            .collect();
        self.write(async |txn| {
            for row in rows.clone() {
                release_health::Entity::insert(row)
                    .on_conflict(add_on_conflict())
                    .exec_without_returning(txn)
                    .await?;
            }
            Ok(())
        })
        .await
    }

    /// Folds minute buckets that started before `before` into hour buckets.
    pub async fn roll_up_health(&self, before: i64) -> Result<u64, StoreError> {
        let cutoff = before - before.rem_euclid(HOUR_MS);
        self.write(async |txn| {
            let backend = txn.get_database_backend();
            let sql = format!(
                "INSERT INTO release_health \
                 (project_id, release, environment, route, bucket_start, span, ok, errored, crashed) \
                 SELECT project_id, release, environment, route, (bucket_start / {HOUR_MS}) * {HOUR_MS}, 'hour', \
                 SUM(ok), SUM(errored), SUM(crashed) FROM release_health \
                 WHERE span = 'minute' AND bucket_start < {cutoff} \
                 GROUP BY project_id, release, environment, route, (bucket_start / {HOUR_MS}) * {HOUR_MS} \
                 ON CONFLICT (project_id, release, environment, route, bucket_start, span) DO UPDATE SET \
                 ok = release_health.ok + excluded.ok, errored = release_health.errored + excluded.errored, \
                 crashed = release_health.crashed + excluded.crashed"
            );
            txn.execute(Statement::from_string(backend, sql)).await?;
            let gone = release_health::Entity::delete_many()
                .filter(release_health::Column::Span.eq(BucketSpan::Minute))
                .filter(release_health::Column::BucketStart.lt(cutoff))
                .exec(txn)
                .await?;
            Ok(gone.rows_affected)
        })
        .await
    }

    /// Totals per release of `project_id` (in `environment` when given), from
    /// `since` (ms) on, most recently seen first.
    pub async fn release_totals(
        &self,
        project_id: i64,
        environment: Option<&str>,
        since: i64,
    ) -> Result<Vec<Totals>, StoreError> {
        self.totals(project_id, environment, None, since).await
    }

    /// Totals per route of `release` of `project_id`, from `since` on.
    pub async fn route_totals(
        &self,
        project_id: i64,
        release: &str,
        environment: Option<&str>,
        since: i64,
    ) -> Result<Vec<Totals>, StoreError> {
        self.totals(project_id, environment, Some(release), since)
            .await
    }

    async fn totals(
        &self,
        project_id: i64,
        environment: Option<&str>,
        release: Option<&str>,
        since: i64,
    ) -> Result<Vec<Totals>, StoreError> {
        let key = match release {
            Some(_) => release_health::Column::Route,
            None => release_health::Column::Release,
        };
        let mut select = release_health::Entity::find()
            .select_only()
            .column(key)
            .column_as(sum(release_health::Column::Ok), "ok")
            .column_as(sum(release_health::Column::Errored), "errored")
            .column_as(sum(release_health::Column::Crashed), "crashed")
            .column_as(release_health::Column::BucketStart.min(), "first")
            .column_as(release_health::Column::BucketStart.max(), "last")
            .filter(release_health::Column::ProjectId.eq(project_id))
            .filter(release_health::Column::BucketStart.gte(since - since.rem_euclid(MINUTE_MS)))
            .group_by(key);
        if let Some(environment) = environment {
            select = select.filter(release_health::Column::Environment.eq(environment));
        }
        if let Some(release) = release {
            select = select.filter(release_health::Column::Release.eq(release));
        }
        let rows = select
            .into_tuple::<(
                String,
                Option<i64>,
                Option<i64>,
                Option<i64>,
                Option<i64>,
                Option<i64>,
            )>()
            .all(self.db())
            .await?;
        let mut totals: Vec<Totals> = rows
            .into_iter()
            .map(|(key, ok, errored, crashed, first, last)| Totals {
                key,
                ok: ok.unwrap_or(0),
                errored: errored.unwrap_or(0),
                crashed: crashed.unwrap_or(0),
                first: first.unwrap_or(0),
                last: last.unwrap_or(0),
            })
            .collect();
        totals.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.key.cmp(&b.key)));
        Ok(totals)
    }

    /// Requests per hour from `since` on, of `release` when given (else of every
    /// release), in `environment` when given: (hour start, requests, failed), oldest
    /// first.
    pub async fn health_hours(
        &self,
        project_id: i64,
        release: Option<&str>,
        environment: Option<&str>,
        since: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let hour = format!("(bucket_start / {HOUR_MS}) * {HOUR_MS}");
        let mut select = release_health::Entity::find()
            .select_only()
            .column_as(Expr::cust(&hour), "hour")
            .column_as(sum(release_health::Column::Ok), "ok")
            .column_as(sum(release_health::Column::Errored), "errored")
            .column_as(sum(release_health::Column::Crashed), "crashed")
            .filter(release_health::Column::ProjectId.eq(project_id))
            .filter(release_health::Column::BucketStart.gte(since))
            .group_by(Expr::cust(&hour))
            .order_by_asc(Expr::cust(&hour));
        if let Some(release) = release {
            select = select.filter(release_health::Column::Release.eq(release));
        }
        if let Some(environment) = environment {
            select = select.filter(release_health::Column::Environment.eq(environment));
        }
        let rows = select
            .into_tuple::<(i64, Option<i64>, Option<i64>, Option<i64>)>()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(hour, ok, errored, crashed)| {
                let failed = errored.unwrap_or(0) + crashed.unwrap_or(0);
                (hour, ok.unwrap_or(0) + failed, failed)
            })
            .collect())
    }

    /// Records that `release` went out to `environment` at `at`.
    pub async fn record_deploy(
        &self,
        project_id: i64,
        release: &str,
        environment: &str,
        at: i64,
    ) -> Result<deploy::Model, StoreError> {
        let row = deploy::ActiveModel {
            id: NotSet,
            project_id: Set(project_id),
            release: Set(release.to_owned()),
            environment: Set(environment.to_owned()),
            deployed_at: Set(at),
        };
        self.write(async |txn| Ok(row.clone().insert(txn).await?))
            .await
    }

    /// `project_id`'s deploys (of `release` when given), newest first.
    pub async fn deploys(
        &self,
        project_id: i64,
        release: Option<&str>,
    ) -> Result<Vec<deploy::Model>, StoreError> {
        let mut select = deploy::Entity::find().filter(deploy::Column::ProjectId.eq(project_id));
        if let Some(release) = release {
            select = select.filter(deploy::Column::Release.eq(release));
        }
        Ok(select
            .order_by_desc(deploy::Column::DeployedAt)
            .limit(200)
            .all(self.db())
            .await?)
    }

    /// Issues of `project_id` first seen in `release`.
    pub async fn issues_first_seen_in(
        &self,
        project_id: i64,
        release: &str,
    ) -> Result<Vec<issue::Model>, StoreError> {
        Ok(issue::Entity::find()
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::FirstRelease.eq(release))
            .filter(issue::Column::MergedInto.is_null())
            .order_by_desc(issue::Column::FirstSeen)
            .limit(200)
            .all(self.db())
            .await?)
    }

    /// How many issues of `project_id` each release was the first seen in.
    pub async fn new_issue_counts(
        &self,
        project_id: i64,
    ) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        let rows = issue::Entity::find()
            .select_only()
            .column(issue::Column::FirstRelease)
            .column_as(issue::Column::Id.count(), "n")
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::FirstRelease.is_not_null())
            .filter(issue::Column::MergedInto.is_null())
            .group_by(issue::Column::FirstRelease)
            .into_tuple::<(Option<String>, i64)>()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(release, n)| Some((release?, usize::try_from(n).unwrap_or(0))))
            .collect())
    }

    /// Issues of `project_id` that came back (regressed) in `release` since `since`.
    pub async fn issues_regressed_in(
        &self,
        project_id: i64,
        release: &str,
        since: i64,
    ) -> Result<Vec<issue::Model>, StoreError> {
        Ok(issue::Entity::find()
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::LastRelease.eq(release))
            .filter(issue::Column::LastRegressedAt.gte(since))
            .filter(issue::Column::MergedInto.is_null())
            .order_by_desc(issue::Column::LastRegressedAt)
            .limit(200)
            .all(self.db())
            .await?)
    }

    /// The releases `project_id`'s issues name (first or last seen in), for releases
    /// that sent no request counts.
    pub async fn issue_releases(&self, project_id: i64) -> Result<Vec<String>, StoreError> {
        let mut found: Vec<String> = Vec::new();
        for column in [issue::Column::FirstRelease, issue::Column::LastRelease] {
            let names = issue::Entity::find()
                .select_only()
                .column(column)
                .distinct()
                .filter(issue::Column::ProjectId.eq(project_id))
                .filter(column.is_not_null())
                .limit(500)
                .into_tuple::<Option<String>>()
                .all(self.db())
                .await?;
            for name in names.into_iter().flatten() {
                if !found.contains(&name) {
                    found.push(name);
                }
            }
        }
        Ok(found)
    }
}

/// `SUM(column)` as a BIGINT: PostgreSQL sums BIGINTs into NUMERIC, which does not
/// decode as an `i64`.
fn sum(column: release_health::Column) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!("CAST(SUM({}) AS BIGINT)", column.as_str()))
}

/// Adds the new counts to a bucket that exists.
fn add_on_conflict() -> OnConflict {
    OnConflict::columns([
        release_health::Column::ProjectId,
        release_health::Column::Release,
        release_health::Column::Environment,
        release_health::Column::Route,
        release_health::Column::BucketStart,
        release_health::Column::Span,
    ])
    .values([
        (
            release_health::Column::Ok,
            Expr::cust("release_health.ok + excluded.ok"),
        ),
        (
            release_health::Column::Errored,
            Expr::cust("release_health.errored + excluded.errored"),
        ),
        (
            release_health::Column::Crashed,
            Expr::cust("release_health.crashed + excluded.crashed"),
        ),
    ])
    .to_owned()
}
