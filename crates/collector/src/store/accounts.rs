//! Accounts, their project memberships and their API tokens (stored as hashes).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{ProjectRole, account, api_token, membership, web_session};
use super::error::db_conflict;
use super::{Store, StoreError, now_ms};
use sea_orm::sea_query::Expr;
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
        active: Set(true),
        totp_secret: Set(None),
        totp_enabled_at: Set(None),
        totp_last_step: Set(None),
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
    /// The emails of the accounts `ids`, by id.
    pub async fn account_emails(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .column(account::Column::Email)
            .filter(account::Column::Id.is_in(ids.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect())
    }

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

    /// Stores a token's hash for `account_id`, with a name saying where it is used.
    pub async fn create_token(
        &self,
        account_id: i64,
        token_hash: &str,
        name: &str,
    ) -> Result<api_token::Model, StoreError> {
        self.write(async |txn| {
            Ok(api_token::ActiveModel {
                id: NotSet,
                account_id: Set(account_id),
                token_hash: Set(token_hash.to_owned()),
                created_at: Set(now_ms()),
                name: Set(name.trim().to_owned()),
                last_used_at: Set(None),
            }
            .insert(txn)
            .await?)
        })
        .await
    }

    /// The active account a token hash belongs to; notes the token's use (at most
    /// once a minute, so that API reads are not writes).
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
        let account = account::Entity::find_by_id(token.account_id)
            .filter(account::Column::Active.eq(true))
            .one(self.db())
            .await?;
        let now = now_ms();
        if account.is_some() && token.last_used_at.is_none_or(|at| now - at >= 60_000) {
            self.write(async |txn| {
                api_token::Entity::update_many()
                    .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
                    .filter(api_token::Column::Id.eq(token.id))
                    .exec(txn)
                    .await?;
                Ok(())
            })
            .await?;
        }
        Ok(account)
    }

    /// `account_id`'s API tokens, newest first.
    pub async fn tokens(&self, account_id: i64) -> Result<Vec<api_token::Model>, StoreError> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::AccountId.eq(account_id))
            .order_by_desc(api_token::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Revokes `account_id`'s token `token_id`; whether there was one.
    pub async fn revoke_token(&self, account_id: i64, token_id: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let removed = api_token::Entity::delete_many()
                .filter(api_token::Column::Id.eq(token_id))
                .filter(api_token::Column::AccountId.eq(account_id))
                .exec(txn)
                .await?;
            Ok(removed.rows_affected > 0)
        })
        .await
    }

    /// Sets `account_id`'s password hash and ends its sessions but `keep` (the one
    /// that changed it).
    pub async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            account::Entity::update_many()
                .col_expr(account::Column::PasswordHash, Expr::value(password_hash))
                .filter(account::Column::Id.eq(account_id))
                .exec(txn)
                .await?;
            end_sessions(txn, account_id, keep).await
        })
        .await
    }

    /// Ends `account_id`'s sessions but `keep` ("sign out everywhere else").
    pub async fn end_sessions(
        &self,
        account_id: i64,
        keep: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(async |txn| end_sessions(txn, account_id, keep).await)
            .await
    }

    /// Deactivates or reactivates `account_id`; deactivating ends its sessions.
    pub async fn set_account_active(
        &self,
        account_id: i64,
        active: bool,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let changed = account::Entity::update_many()
                .col_expr(account::Column::Active, Expr::value(active))
                .filter(account::Column::Id.eq(account_id))
                .exec(txn)
                .await?;
            if !active {
                end_sessions(txn, account_id, None).await?;
            }
            Ok(changed.rows_affected > 0)
        })
        .await
    }

    /// Removes `account_id` with its memberships, tokens and sessions.
    pub async fn remove_account(&self, account_id: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            membership::Entity::delete_many()
                .filter(membership::Column::AccountId.eq(account_id))
                .exec(txn)
                .await?;
            api_token::Entity::delete_many()
                .filter(api_token::Column::AccountId.eq(account_id))
                .exec(txn)
                .await?;
            end_sessions(txn, account_id, None).await?;
            let removed = account::Entity::delete_by_id(account_id).exec(txn).await?;
            Ok(removed.rows_affected > 0)
        })
        .await
    }
}

/// Deletes `account_id`'s sessions, but the one stored by `keep`.
async fn end_sessions(
    txn: &super::WriteTxn,
    account_id: i64,
    keep: Option<&str>,
) -> Result<(), StoreError> {
    let mut delete =
        web_session::Entity::delete_many().filter(web_session::Column::AccountId.eq(account_id));
    if let Some(keep) = keep {
        delete = delete.filter(web_session::Column::TokenHash.ne(keep));
    }
    delete.exec(txn).await?;
    Ok(())
}
