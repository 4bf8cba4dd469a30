//! What a person a crash hit wrote about it.

use sea_orm::entity::prelude::*;

/// A row of `feedback`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The project.
    pub project_id: i64,
    /// The event it is about (32 hex digits), when the sender named one.
    pub event_id: Option<String>,
    /// The writer's name, as given.
    pub name: Option<String>,
    /// The writer's email, as given.
    pub email: Option<String>,
    /// What they wrote.
    pub message: String,
    /// The page they were on, when known.
    pub url: Option<String>,
    /// How it came.
    pub source: super::FeedbackSource,
    /// When it arrived (ms).
    pub created_at: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
