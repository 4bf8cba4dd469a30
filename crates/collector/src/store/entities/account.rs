//! A person who signs in to the UI or uses the API.

use sea_orm::entity::prelude::*;

/// A row of `account`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique email address.
    #[sea_orm(unique)]
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Admins see and manage every project.
    pub is_admin: bool,
    /// Creation time.
    pub created_at: i64,
    /// A deactivated account cannot sign in, and its sessions and tokens stop
    /// working; its history stays.
    pub active: bool,
    /// The TOTP secret (base32), once two-factor sign-in is being set up.
    pub totp_secret: Option<String>,
    /// When two-factor sign-in was confirmed with a code; `None` while only pending.
    pub totp_enabled_at: Option<i64>,
    /// The last time step a code was accepted for: a code works once.
    pub totp_last_step: Option<i64>,
}

impl Model {
    /// Whether signing in asks for a second factor.
    pub fn has_two_factor(&self) -> bool {
        self.totp_enabled_at.is_some() && self.totp_secret.is_some()
    }
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
