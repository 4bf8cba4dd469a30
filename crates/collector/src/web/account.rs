//! `/account`: one's own API tokens (create, list, revoke), password change, and
//! signing out everywhere else.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use maud::{Markup, html};

use super::format::when;
use super::layout::{self, html_with_status};
use super::session::SignedIn;
use super::{WebError, error, forms, forms::check_csrf};
use crate::accounts;
use crate::state::AppState;

/// `GET /account`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    render(&state, &signed_in, StatusCode::OK, AccountNote::None).await
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    note: AccountNote<'_>,
) -> Result<Response, WebError> {
    let tokens = state.store.tokens(signed_in.account.id).await?;
    Ok(html_with_status(status, markup(signed_in, &tokens, note)))
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

/// `POST /account`: one action of the page's forms.
/// What a form of the account page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum AccountAction {
    CreateToken,
    RevokeToken,
    ChangePassword,
    SignOutElsewhere,
}

pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    let store = &state.store;
    let me = &signed_in.account;
    match forms::action::<AccountAction>(&form.action)? {
        AccountAction::CreateToken => {
            let token = accounts::create_api_token(store, me.id, &form.name).await?;
            // Shown once, on this answer; only its hash is kept.
            return render(
                &state,
                &signed_in,
                StatusCode::OK,
                AccountNote::NewToken(&token),
            )
            .await;
        }
        AccountAction::RevokeToken => {
            let id = form
                .token_id
                .ok_or_else(|| WebError::BadRequest("Which token?".into()))?;
            if !store.revoke_token(me.id, id).await? {
                return Err(WebError::NotFound);
            }
        }
        AccountAction::ChangePassword => {
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
                        render(
                            &state,
                            &signed_in,
                            StatusCode::BAD_REQUEST,
                            AccountNote::Error(&message),
                        )
                        .await
                    }
                    None => Err(mistake.into()),
                };
            }
            return render(
                &state,
                &signed_in,
                StatusCode::OK,
                AccountNote::Done("Password changed; your other sessions are signed out."),
            )
            .await;
        }
        AccountAction::SignOutElsewhere => {
            store
                .end_sessions(me.id, Some(&signed_in.token_hash))
                .await?;
            return render(
                &state,
                &signed_in,
                StatusCode::OK,
                AccountNote::Done("Every other session is signed out."),
            )
            .await;
        }
    }
    Ok(Redirect::to("/account").into_response())
}

/// What the account page says above its sections.
#[derive(Debug, Clone, Copy)]
enum AccountNote<'a> {
    /// Nothing.
    None,
    /// A token just created, shown this once.
    NewToken(&'a str),
    /// A change went through.
    Done(&'a str),
    /// A mistake to fix.
    Error(&'a str),
}

/// One's own account: API tokens, password, sessions.
fn markup(
    signed_in: &SignedIn,
    tokens: &[crate::store::entities::api_token::Model],
    note: AccountNote<'_>,
) -> Markup {
    layout::page(
        "Account",
        signed_in,
        html! {
            h1 { "Your account" }
            @match note {
                AccountNote::None => {},
                AccountNote::NewToken(token) => p.notice {
                    "Your new token (copy it now; it is not shown again): " code { (token) }
                },
                AccountNote::Done(message) => p.notice { (message) },
                AccountNote::Error(message) => p.error { (message) },
            }
            section {
                h2 { "API tokens" }
                table {
                    thead { tr { th { "Name" } th { "Created" } th { "Last used" } th {} } }
                    tbody { @for token in tokens {
                        tr {
                            td.wrap data-label="Name" { @if token.name.is_empty() { span.muted { "(no name)" } } @else { (token.name) } }
                            td data-label="Created" { (when(token.created_at)) }
                            td data-label="Last used" { @match token.last_used_at { Some(at) => (when(at)), None => span.muted { "never" } } }
                            td { form method="post" action="/account" {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                input type="hidden" name="action" value="revoke_token";
                                input type="hidden" name="token_id" value=(token.id);
                                button type="submit" { "Revoke" }
                            } }
                        }
                    } }
                }
                form method="post" action="/account" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="create_token";
                    input type="text" name="name" placeholder="Where it is used" aria-label="Where the token is used" maxlength="100"; " "
                    button type="submit" { "Create a token" }
                }
            }
            section {
                h2 { "Password" }
                form method="post" action="/account" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="change_password";
                    input type="password" name="current" placeholder="Current password" aria-label="Current password" autocomplete="current-password" required; " "
                    input type="password" name="new" placeholder="New password (8+)" aria-label="New password (8 characters or more)" autocomplete="new-password" minlength="8" required; " "
                    button type="submit" { "Change" }
                }
            }
            section {
                h2 { "Two-factor sign-in" }
                p {
                    @if signed_in.account.has_two_factor() {
                        "On: signing in asks for a code from your authenticator app. "
                        a href="/account/two-factor" { "Recovery codes, or turn it off" }
                    } @else {
                        "Off: signing in asks for your password only. "
                        a href="/account/two-factor" { "Set it up" }
                    }
                }
            }
            section {
                h2 { "Sessions" }
                form method="post" action="/account" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="sign_out_elsewhere";
                    button type="submit" { "Sign out everywhere else" }
                }
            }
        },
    )
}
