//! An account's second factor: its TOTP secret and last accepted step, its recovery
//! codes (hashed). The codes themselves are checked in `crate::two_factor`.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};

use super::entities::{account, recovery_code, web_session};
use super::{Store, StoreError, now_ms};

impl Store {
    /// Starts setting up two-factor sign-in: `secret` is kept, not yet asked for at
    /// sign-in (until [`Store::enable_totp`]). An enabled second factor is left alone.
    pub async fn set_pending_totp(
        &self,
        account_id: i64,
        secret: &str,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let updated = account::Entity::update_many()
                .col_expr(account::Column::TotpSecret, Expr::value(secret))
                .col_expr(
                    account::Column::TotpLastStep,
                    Expr::value(Option::<i64>::None),
                )
                .filter(account::Column::Id.eq(account_id))
                .filter(account::Column::TotpEnabledAt.is_null())
                .exec(txn)
                .await?;
            Ok(updated.rows_affected == 1)
        })
        .await
    }

    /// Turns two-factor sign-in on, `step` being the step of the code that confirmed it,
    /// with `recovery_hashes` as the account's only recovery codes.
    pub async fn enable_totp(
        &self,
        account_id: i64,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            account::Entity::update_many()
                .col_expr(account::Column::TotpEnabledAt, Expr::value(now_ms()))
                .col_expr(account::Column::TotpLastStep, Expr::value(step))
                .filter(account::Column::Id.eq(account_id))
                .exec(txn)
                .await?;
            replace_codes(txn, account_id, recovery_hashes).await
        })
        .await
    }

    /// Accepts a code of time step `step` once: false when this step (or a later one)
    /// was accepted already, so that a code seen over a shoulder cannot be used again.
    pub async fn accept_totp_step(&self, account_id: i64, step: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let updated = account::Entity::update_many()
                .col_expr(account::Column::TotpLastStep, Expr::value(step))
                .filter(account::Column::Id.eq(account_id))
                .filter(
                    sea_orm::Condition::any()
                        .add(account::Column::TotpLastStep.is_null())
                        .add(account::Column::TotpLastStep.lt(step)),
                )
                .exec(txn)
                .await?;
            Ok(updated.rows_affected == 1)
        })
        .await
    }

    /// Uses the recovery code stored as `code_hash`, once: whether it was unused.
    pub async fn use_recovery_code(
        &self,
        account_id: i64,
        code_hash: &str,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let updated = recovery_code::Entity::update_many()
                .col_expr(recovery_code::Column::UsedAt, Expr::value(now_ms()))
                .filter(recovery_code::Column::AccountId.eq(account_id))
                .filter(recovery_code::Column::CodeHash.eq(code_hash))
                .filter(recovery_code::Column::UsedAt.is_null())
                .exec(txn)
                .await?;
            Ok(updated.rows_affected == 1)
        })
        .await
    }

    /// New recovery codes for the account, the old ones void.
    pub async fn replace_recovery_codes(
        &self,
        account_id: i64,
        recovery_hashes: &[String],
    ) -> Result<(), StoreError> {
        self.write(async |txn| replace_codes(txn, account_id, recovery_hashes).await)
            .await
    }

    /// How many unused recovery codes the account has.
    pub async fn unused_recovery_codes(&self, account_id: i64) -> Result<u64, StoreError> {
        Ok(recovery_code::Entity::find()
            .filter(recovery_code::Column::AccountId.eq(account_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(self.db())
            .await?)
    }

    /// Removes the account's second factor (secret, recovery codes) and ends its
    /// sessions: the next sign-in asks for the password alone. Whether it had one.
    pub async fn clear_totp(&self, account_id: i64) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let updated = account::Entity::update_many()
                .col_expr(
                    account::Column::TotpSecret,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    account::Column::TotpEnabledAt,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(
                    account::Column::TotpLastStep,
                    Expr::value(Option::<i64>::None),
                )
                .filter(account::Column::Id.eq(account_id))
                .filter(account::Column::TotpSecret.is_not_null())
                .exec(txn)
                .await?;
            recovery_code::Entity::delete_many()
                .filter(recovery_code::Column::AccountId.eq(account_id))
                .exec(txn)
                .await?;
            web_session::Entity::delete_many()
                .filter(web_session::Column::AccountId.eq(account_id))
                .exec(txn)
                .await?;
            Ok(updated.rows_affected == 1)
        })
        .await
    }
}

async fn replace_codes(
    txn: &super::WriteTxn,
    account_id: i64,
    recovery_hashes: &[String],
) -> Result<(), StoreError> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::AccountId.eq(account_id))
        .exec(txn)
        .await?;
    for hash in recovery_hashes {
        recovery_code::ActiveModel {
            id: NotSet,
            account_id: Set(account_id),
            code_hash: Set(hash.clone()),
            used_at: Set(None),
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}
