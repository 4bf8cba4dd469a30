//! One's own API tokens: list them (never the tokens themselves) and revoke one.

use axum::Json;
use axum::extract::State;

use super::extract::{ApiAccount, ApiPath};
use super::views;
use crate::error::ApiError;
use crate::state::AppState;

/// One's own API tokens (never the tokens themselves: only their hashes are kept).
pub(super) async fn list_tokens(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<views::TokensJson>, ApiError> {
    let tokens = state.store.tokens(account.id).await?;
    Ok(Json(views::TokensJson {
        tokens: tokens.into_iter().map(views::TokenJson::from).collect(),
    }))
}

/// Revokes one of one's own tokens (possibly the one asking).
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(token_id): ApiPath<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.store.revoke_token(account.id, token_id).await? {
        return Err(ApiError::not_found(format!("token {token_id} not found")));
    }
    Ok(Json(serde_json::json!({"revoked": token_id})))
}
