//! The people an issue affected, with what the events said about them.

use sea_orm::entity::prelude::*;

/// A row of `affected_user`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "affected_user")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The issue.
    pub issue_id: i64,
    /// Identity used to count distinct users.
    pub user_key: String,
    /// The app's user id.
    pub user_id: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// IP address, when the app sent one.
    pub ip_address: Option<String>,
    /// Events of this issue this user hit.
    pub event_count: i64,
    /// First time.
    pub first_seen: i64,
    /// Latest time.
    pub last_seen: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
