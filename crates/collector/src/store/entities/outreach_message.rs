//! A message the team wrote to one affected user about one issue (once per user and
//! issue).

use sea_orm::entity::prelude::*;

/// A row of `outreach_message`: one email to one affected user about one issue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outreach_message")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The issue.
    pub issue_id: i64,
    /// The user (`affected_user.user_key`).
    pub user_key: String,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: Option<String>,
    /// Personal or the fixed follow-up.
    pub kind: super::OutreachKind,
    /// The subject, placeholders filled in.
    pub subject: String,
    /// The text, placeholders filled in.
    pub body: String,
    /// Who sent it (an account's email, or `collector` for a follow-up).
    pub sent_by: String,
    /// The unguessable part of its unsubscribe link.
    pub unsubscribe_token: String,
    /// When it was queued.
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
