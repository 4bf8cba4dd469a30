//! Signed-in browser sessions, stored by the hash of their token.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, Set};

use super::entities::{account, web_session};
use super::{Store, StoreError, now_ms};

fn session_row(
    account_id: i64,
    token_hash: &str,
    csrf_token: &str,
    ttl_ms: i64,
    pending: bool,
) -> web_session::ActiveModel {
    let now = now_ms();
    web_session::ActiveModel {
        id: NotSet,
        token_hash: Set(token_hash.to_owned()),
        account_id: Set(account_id),
        csrf_token: Set(csrf_token.to_owned()),
        created_at: Set(now),
        expires_at: Set(now + ttl_ms),
        second_factor_pending: Set(pending),
    }
}

impl Store {
    /// Starts a session for `account_id`, stored by `token_hash`, valid for `ttl_ms`.
    pub async fn create_session(
        &self,
        account_id: i64,
        token_hash: &str,
        csrf_token: &str,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        self.create_session_as(account_id, token_hash, csrf_token, ttl_ms, false)
            .await
    }

    /// Starts a session, waiting for the second factor when `pending`.
    pub async fn create_session_as(
        &self,
        account_id: i64,
        token_hash: &str,
        csrf_token: &str,
        ttl_ms: i64,
        pending: bool,
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            session_row(account_id, token_hash, csrf_token, ttl_ms, pending)
                .insert(txn)
                .await?;
            Ok(())
        })
        .await
    }

    /// The second factor was given: the waiting session `pending_hash` ends and a full
    /// one, under a new token, begins (a token seen before the code is worth nothing).
    pub async fn complete_session(
        &self,
        pending_hash: &str,
        token_hash: &str,
        csrf_token: &str,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let Some(pending) = web_session::Entity::find()
                .filter(web_session::Column::TokenHash.eq(pending_hash))
                .filter(web_session::Column::SecondFactorPending.eq(true))
                .one(txn)
                .await?
            else {
                return Ok(false);
            };
            web_session::Entity::delete_by_id(pending.id)
                .exec(txn)
                .await?;
            session_row(pending.account_id, token_hash, csrf_token, ttl_ms, false)
                .insert(txn)
                .await?;
            Ok(true)
        })
        .await
    }

    /// The live session stored by `token_hash`, with its account.
    pub async fn session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(web_session::Model, account::Model)>, StoreError> {
        let Some(session) = web_session::Entity::find()
            .filter(web_session::Column::TokenHash.eq(token_hash))
            .filter(web_session::Column::ExpiresAt.gt(now_ms()))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let account = account::Entity::find_by_id(session.account_id)
            .filter(account::Column::Active.eq(true))
            .one(self.db())
            .await?;
        Ok(account.map(|account| (session, account)))
    }

    /// Deletes expired sessions; how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64, StoreError> {
        self.write(async |txn| {
            let purged = web_session::Entity::delete_many()
                .filter(web_session::Column::ExpiresAt.lte(now_ms()))
                .exec(txn)
                .await?;
            Ok(purged.rows_affected)
        })
        .await
    }

    /// Ends the session stored by `token_hash`.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.write(async |txn| {
            web_session::Entity::delete_many()
                .filter(web_session::Column::TokenHash.eq(token_hash))
                .exec(txn)
                .await?;
            Ok(())
        })
        .await
    }
}
