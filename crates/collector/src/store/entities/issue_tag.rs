//! A tag value (or the message, under `message`) of an issue's events, for search; and
//! the issue's environments and releases (the events' own fields, under [`ENVIRONMENT`]
//! and [`RELEASE`]), for the issue list's filters.

use sea_orm::entity::prelude::*;

/// The key of the rows naming an environment the issue's events came from. A tag an
/// SDK sends under this key is not kept: the event's field is the environment.
pub const ENVIRONMENT: &str = "environment";

/// The key of the rows naming a release the issue's events came from (as
/// [`ENVIRONMENT`]).
pub const RELEASE: &str = "release";

/// A row of `issue_tag`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "issue_tag")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The issue.
    pub issue_id: i64,
    /// The tag's key (`message` for the message).
    pub key: String,
    /// Its value.
    pub value: String,
    /// When an event last carried it (ms; retention forgets older ones).
    pub last_seen: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
