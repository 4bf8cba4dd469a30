//! `/account`: one's own API tokens (create, list, revoke), password change, and
//! signing out everywhere else.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::SignedIn;
use super::{WebError, check_csrf, error, html_with_status, pages};
use crate::{AppState, accounts};

pub(super) async fn account_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    page(&state, &signed_in, StatusCode::OK, pages::AccountNote::None).await
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    note: pages::AccountNote<'_>,
) -> Result<Response, WebError> {
    let tokens = state.store.tokens(signed_in.account.id).await?;
    Ok(html_with_status(
        status,
        pages::account_page(signed_in, &tokens, note),
    ))
}

#[derive(Deserialize)]
pub(super) struct AccountForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    token_id: Option<i64>,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

pub(super) async fn change_account(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    let store = &state.store;
    let me = &signed_in.account;
    match form.action.as_str() {
        "create_token" => {
            let token = accounts::create_api_token(store, me.id, &form.name).await?;
            // Shown once, on this answer; only its hash is kept.
            return page(
                &state,
                &signed_in,
                StatusCode::OK,
                pages::AccountNote::NewToken(&token),
            )
            .await;
        }
        "revoke_token" => {
            let id = form
                .token_id
                .ok_or_else(|| WebError::BadRequest("Which token?".into()))?;
            if !store.revoke_token(me.id, id).await? {
                return Err(WebError::NotFound);
            }
        }
        "change_password" => {
            let changed = accounts::change_password(
                store,
                me,
                &form.current,
                &form.new,
                Some(&signed_in.token_hash),
            )
            .await;
            if let Err(mistake) = changed {
                return match error::form_mistake(&mistake) {
                    Some(message) => {
                        page(
                            &state,
                            &signed_in,
                            StatusCode::BAD_REQUEST,
                            pages::AccountNote::Error(&message),
                        )
                        .await
                    }
                    None => Err(mistake.into()),
                };
            }
            return page(
                &state,
                &signed_in,
                StatusCode::OK,
                pages::AccountNote::Done("Password changed; your other sessions are signed out."),
            )
            .await;
        }
        "sign_out_elsewhere" => {
            store
                .end_sessions(me.id, Some(&signed_in.token_hash))
                .await?;
            return page(
                &state,
                &signed_in,
                StatusCode::OK,
                pages::AccountNote::Done("Every other session is signed out."),
            )
            .await;
        }
        _ => return Err(WebError::BadRequest("Unknown change.".into())),
    }
    Ok(Redirect::to("/account").into_response())
}
