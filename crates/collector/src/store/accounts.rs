//! Accounts, their project memberships and their API tokens (stored as hashes).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::entities::{account, api_token, membership};
use super::{Store, StoreError, db_conflict, now_ms};

/// A new account's row (emails are kept trimmed and lowercase).
fn new_account(
    email: &str,
    name: Option<&str>,
    password_hash: &str,
    is_admin: bool,
) -> account::ActiveModel {
    account::ActiveModel {
        id: NotSet,
        email: Set(email.trim().to_lowercase()),
        name: Set(name.map(str::to_owned)),
        password_hash: Set(password_hash.to_owned()),
        is_admin: Set(is_admin),
        created_at: Set(now_ms()),
    }
}

impl Store {
    /// Creates an account.
    pub async fn create_account(
        &self,
        email: &str,
        name: Option<&str>,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<account::Model, StoreError> {
        self.write(async |txn| {
            new_account(email, name, password_hash, is_admin)
                .insert(txn)
                .await
                .map_err(|e| db_conflict(e, &format!("account {email:?}")))
        })
        .await
    }

    /// Creates the first account, an admin, unless an account exists already: the count
    /// and the insert in one write, so that parallel first-run forms create one admin.
    pub async fn create_first_admin(
        &self,
        email: &str,
        name: Option<&str>,
        password_hash: &str,
    ) -> Result<account::Model, StoreError> {
        self.write(async |txn| {
            if txn.get_database_backend() == DbBackend::Postgres {
                // SQLite's writes take turns already; PostgreSQL's need the table.
                txn.execute_unprepared("LOCK TABLE account IN SHARE ROW EXCLUSIVE MODE")
                    .await?;
            }
            if account::Entity::find().count(txn).await? > 0 {
                return Err(StoreError::Conflict("the first account".to_owned()));
            }
            new_account(email, name, password_hash, true)
                .insert(txn)
                .await
                .map_err(|e| db_conflict(e, &format!("account {email:?}")))
        })
        .await
    }

    /// The account with `email`.
    pub async fn account_by_email(&self, email: &str) -> Result<account::Model, StoreError> {
        account::Entity::find()
            .filter(account::Column::Email.eq(email.trim().to_lowercase()))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account {email:?}")))
    }

    /// How many accounts exist.
    pub async fn count_accounts(&self) -> Result<u64, StoreError> {
        Ok(account::Entity::find().count(self.db()).await?)
    }

    /// Every account, by email.
    pub async fn accounts(&self) -> Result<Vec<account::Model>, StoreError> {
        Ok(account::Entity::find()
            .order_by_asc(account::Column::Email)
            .all(self.db())
            .await?)
    }

    /// Makes `account_id` a member of project `project_id` (no-op if it is one).
    pub async fn add_member(&self, project_id: i64, account_id: i64) -> Result<(), StoreError> {
        self.write(async |txn| {
            let exists = membership::Entity::find_by_id((project_id, account_id))
                .one(txn)
                .await?
                .is_some();
            if !exists {
                membership::ActiveModel {
                    project_id: Set(project_id),
                    account_id: Set(account_id),
                }
                .insert(txn)
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// Stores a token's hash for `account_id`.
    pub async fn create_token(&self, account_id: i64, token_hash: &str) -> Result<(), StoreError> {
        self.write(async |txn| {
            api_token::ActiveModel {
                id: NotSet,
                account_id: Set(account_id),
                token_hash: Set(token_hash.to_owned()),
                created_at: Set(now_ms()),
            }
            .insert(txn)
            .await?;
            Ok(())
        })
        .await
    }

    /// The account a token hash belongs to.
    pub async fn account_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<account::Model>, StoreError> {
        let Some(token) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        Ok(account::Entity::find_by_id(token.account_id)
            .one(self.db())
            .await?)
    }
}
