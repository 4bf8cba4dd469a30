//! Request counts of one release, environment and route in one minute or hour.

use sea_orm::entity::prelude::*;

/// A row of `release_health`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_health")]
pub struct Model {
    /// The project.
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: i64,
    /// The release.
    #[sea_orm(primary_key, auto_increment = false)]
    pub release: String,
    /// The environment ("" when none was named).
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment: String,
    /// The route template (`GET /checkout`), "" for all routes of a sender that names none.
    #[sea_orm(primary_key, auto_increment = false)]
    pub route: String,
    /// The bucket's first millisecond.
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket_start: i64,
    /// A minute or an hour.
    #[sea_orm(primary_key, auto_increment = false)]
    pub span: super::BucketSpan,
    /// Requests that ended well.
    pub ok: i64,
    /// Requests answered with a 5xx (or sessions that errored).
    pub errored: i64,
    /// Requests whose handler panicked (or sessions that crashed).
    pub crashed: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
