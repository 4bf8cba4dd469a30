//! Accounts and memberships over the API: one's own password; a project's members
//! (project admins); users (instance admins). The same rules as the web UI, asked of
//! `access`, and every change recorded in the audit log where it concerns a project.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::{AccountJson, AccountsJson, MemberJson, MembersJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::ProjectRole;
use crate::{accounts, membership};

#[derive(Deserialize)]
pub(super) struct PasswordChange {
    current: String,
    new: String,
}

/// Changes one's own password; every browser session of the account ends (tokens
/// stay: revoke them with `DELETE /api/v1/tokens/{id}`).
pub(super) async fn change_password(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    AppJson(change): AppJson<PasswordChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    accounts::change_password(&state.store, &account, &change.current, &change.new, None).await?;
    Ok(Json(serde_json::json!({"changed": true})))
}

async fn members(state: &AppState, project_id: i64) -> Result<Json<MembersJson>, ApiError> {
    let members = state.store.members(project_id).await?;
    Ok(Json(MembersJson {
        members: members
            .into_iter()
            .map(|(account, role)| MemberJson {
                email: account.email,
                role,
            })
            .collect(),
    }))
}

pub(super) async fn list_members(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<MembersJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    members(&state, project_id).await
}

#[derive(Deserialize)]
pub(super) struct MemberBody {
    email: String,
    #[serde(default = "member")]
    role: ProjectRole,
}

fn member() -> ProjectRole {
    ProjectRole::Member
}

/// Adds an account to the project, or changes its role.
pub(super) async fn put_member(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<MemberBody>,
) -> Result<Json<MembersJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    membership::add(&state.store, &account, project_id, &body.email, body.role).await?;
    members(&state, project_id).await
}

#[derive(Deserialize)]
pub(super) struct EmailBody {
    email: String,
}

pub(super) async fn remove_member(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<EmailBody>,
) -> Result<Json<MembersJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    if !membership::remove(&state.store, &account, project_id, &body.email).await? {
        return Err(ApiError::not_found(format!(
            "{} is not a member",
            body.email
        )));
    }
    members(&state, project_id).await
}

/// Only instance admins manage users; to anyone else the endpoints do not exist.
fn instance_admin(account: &crate::store::entities::account::Model) -> Result<(), ApiError> {
    if account.is_admin {
        Ok(())
    } else {
        Err(ApiError::not_found("no such endpoint"))
    }
}

pub(super) async fn list_users(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
) -> Result<Json<AccountsJson>, ApiError> {
    instance_admin(&account)?;
    let users = state.store.accounts().await?;
    Ok(Json(AccountsJson {
        users: users.into_iter().map(AccountJson::from).collect(),
    }))
}

#[derive(Deserialize)]
pub(super) struct UserChange {
    active: bool,
}

/// Deactivates (sessions and tokens stop working) or reactivates a user.
pub(super) async fn change_user(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(user_id): ApiPath<i64>,
    AppJson(change): AppJson<UserChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    instance_admin(&account)?;
    if user_id == account.id {
        return Err(ApiError::bad_request(
            "you cannot deactivate your own account",
        ));
    }
    if !state
        .store
        .set_account_active(user_id, change.active)
        .await?
    {
        return Err(ApiError::not_found(format!("user {user_id} not found")));
    }
    Ok(Json(
        serde_json::json!({"id": user_id, "active": change.active}),
    ))
}

/// Removes a user with their memberships, tokens and sessions.
pub(super) async fn remove_user(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    instance_admin(&account)?;
    if user_id == account.id {
        return Err(ApiError::bad_request("you cannot remove your own account"));
    }
    if !state.store.remove_account(user_id).await? {
        return Err(ApiError::not_found(format!("user {user_id} not found")));
    }
    Ok(Json(serde_json::json!({"removed": user_id})))
}
