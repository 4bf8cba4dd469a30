//! Accounts, their project memberships and their API tokens (stored as hashes).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::entities::{ProjectRole, account, api_token, membership};
use super::{Store, StoreError, db_conflict, now_ms};
use sea_orm::sea_query::{OnConflict, Query};

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

    /// Makes `account_id` a member of project `project_id` with `role` (its role
    /// changes if it is one already).
    pub async fn add_member(
        &self,
        project_id: i64,
        account_id: i64,
        role: ProjectRole,
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            let insert = Query::insert()
                .into_table(membership::Entity)
                .columns([
                    membership::Column::ProjectId,
                    membership::Column::AccountId,
                    membership::Column::Role,
                ])
                .values_panic([project_id.into(), account_id.into(), role.into()])
                .on_conflict(
                    OnConflict::columns([
                        membership::Column::ProjectId,
                        membership::Column::AccountId,
                    ])
                    .update_column(membership::Column::Role)
                    .to_owned(),
                )
                .to_owned();
            txn.execute(txn.get_database_backend().build(&insert))
                .await?;
            Ok(())
        })
        .await
    }

    /// Ends `account_id`'s membership of `project_id`; whether it was one.
    pub async fn remove_member(
        &self,
        project_id: i64,
        account_id: i64,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let removed = membership::Entity::delete_by_id((project_id, account_id))
                .exec(txn)
                .await?;
            Ok(removed.rows_affected > 0)
        })
        .await
    }

    /// `account_id`'s role in `project_id`, if it is a member.
    pub async fn member_role(
        &self,
        project_id: i64,
        account_id: i64,
    ) -> Result<Option<ProjectRole>, StoreError> {
        Ok(membership::Entity::find_by_id((project_id, account_id))
            .one(self.db())
            .await?
            .map(|m| m.role))
    }

    /// A project's members with their roles, by email.
    pub async fn members(
        &self,
        project_id: i64,
    ) -> Result<Vec<(account::Model, ProjectRole)>, StoreError> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::ProjectId.eq(project_id))
            .all(self.db())
            .await?;
        let mut members = Vec::with_capacity(memberships.len());
        for m in memberships {
            if let Some(account) = account::Entity::find_by_id(m.account_id)
                .one(self.db())
                .await?
            {
                members.push((account, m.role));
            }
        }
        members.sort_by(|a, b| a.0.email.cmp(&b.0.email));
        Ok(members)
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
