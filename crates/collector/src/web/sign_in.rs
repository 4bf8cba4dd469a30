//! Signing in and out, and first-run setup (the first admin account): the pages before
//! a session, their form tokens (`preauth`) and the sign-in throttle.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, html_with_status};
use super::preauth::{self, FormToken};
use super::session::{self, SignedIn};
use super::{WebError, error, forms::check_csrf};
use crate::accounts::{self, AccountError};
use crate::request::ClientAddr;
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// A page before sign-in, with the cookie of its form token when the browser has none.
fn preauth_page(
    state: &AppState,
    form: &FormToken,
    status: StatusCode,
    page: maud::Markup,
) -> Response {
    let mut response = html_with_status(status, page);
    if let Some(cookie) = form
        .set_cookie(state)
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if state.store.count_accounts().await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let form = FormToken::of(&headers);
    let next = preauth::safe_next(query.next.as_deref());
    let notice = query
        .expired
        .is_some()
        .then_some("Your session expired. Sign in again to go on.");
    let page = login_markup(&SignInForm {
        csrf: &form.token,
        next: next.as_deref(),
        error: notice,
        email: "",
    });
    Ok(preauth_page(&state, &form, StatusCode::OK, page))
}

pub(super) async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    preauth::check(&headers, &form.csrf)?;
    let next = preauth::safe_next(form.next.as_deref());
    let again = |status: StatusCode, message: &str| {
        let token = FormToken::of(&headers);
        let page = login_markup(&SignInForm {
            csrf: &token.token,
            next: next.as_deref(),
            error: Some(message),
            // Kept, so that a mistyped password is all there is to type again.
            email: &form.email,
        });
        preauth_page(&state, &token, status, page)
    };
    // Counted before the password is checked: parallel guesses cannot slip past.
    let attempt = match state.sign_in_throttle.attempt(&form.email, addr.0) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let message = format!("Too many failed sign-ins. Try again in {wait} s.");
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, &message);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return Ok(response);
        }
    };
    match accounts::authenticate(&state.store, &form.email, &form.password).await? {
        Some(account) if account.has_two_factor() => {
            // The password was right; the code comes next, on a session that opens
            // nothing else, throttled on its own like a password.
            state.sign_in_throttle.succeeded(attempt);
            let pending = accounts::start_session_as(&state.store, account.id, true).await?;
            let cookie = session::cookie_value(&state, &pending.token, 600);
            let to = match next.as_deref() {
                Some(next) => format!(
                    "/login/code?{}",
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("next", next)
                        .finish()
                ),
                None => "/login/code".to_owned(),
            };
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response())
        }
        Some(account) => {
            state.sign_in_throttle.succeeded(attempt);
            let cookie = session::start(&state, account.id).await?;
            let to = next.unwrap_or_else(|| "/".to_owned());
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response())
        }
        None => {
            state.sign_in_throttle.failed(attempt);
            Ok(again(StatusCode::UNAUTHORIZED, "Wrong email or password."))
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    state.store.delete_session(&signed_in.token_hash).await?;
    let cookie = session::cookie_value(&state, "", 0);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
pub(super) struct SetupForm {
    #[serde(default)]
    csrf: String,
    email: String,
    #[serde(default)]
    name: String,
    password: String,
}

pub(super) async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if state.store.count_accounts().await? > 0 {
        return Err(WebError::NotFound);
    }
    let form = FormToken::of(&headers);
    let page = setup_markup(None, &form.token);
    Ok(preauth_page(&state, &form, StatusCode::OK, page))
}

/// First run: creates the first admin account, once, and signs it in. Once an account
/// exists, setup is not there (404), whoever asks and however many ask at once.
pub(super) async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if state.store.count_accounts().await? > 0 {
        return Err(WebError::NotFound);
    }
    preauth::check(&headers, &form.csrf)?;
    let created =
        accounts::create_first_admin(&state.store, &form.email, Some(&form.name), &form.password)
            .await;
    let account = match created {
        Ok(account) => account,
        Err(AccountError::Store(StoreError::Conflict(_))) => return Err(WebError::NotFound),
        Err(error) => {
            // A mistake in the form: the form again, saying what to fix.
            return match error::form_mistake(&error) {
                Some(message) => {
                    let token = FormToken::of(&headers);
                    let page = setup_markup(Some(&message), &token.token);
                    Ok(preauth_page(&state, &token, StatusCode::BAD_REQUEST, page))
                }
                None => Err(error.into()),
            };
        }
    };
    let cookie = session::start(&state, account.id).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// What the sign-in form shows and carries.
#[derive(Debug)]
struct SignInForm<'a> {
    /// The form token (see `preauth`).
    csrf: &'a str,
    /// Where to go after signing in (a path on this site).
    next: Option<&'a str>,
    /// What went wrong, or why the form is shown.
    error: Option<&'a str>,
    /// The email typed before, when the form is shown again.
    email: &'a str,
}

/// Sign in.
fn login_markup(form: &SignInForm<'_>) -> Markup {
    layout::layout(
        "Sign in",
        None,
        html! {
            form.login method="post" action="/login" {
                h1 { "Sign in" }
                @if let Some(error) = form.error { p.error { (error) } }
                input type="hidden" name="csrf" value=(form.csrf);
                @if let Some(next) = form.next { input type="hidden" name="next" value=(next); }
                label for="email" { "Email" }
                input #email type="email" name="email" autocomplete="username" value=(form.email) required;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { "Sign in" } }
            }
        },
    )
}

/// First run: create the admin account.
fn setup_markup(error: Option<&str>, csrf: &str) -> Markup {
    layout::layout(
        "Set up",
        None,
        html! {
            form.login method="post" action="/setup" {
                h1 { "Create the admin account" }
                p.muted { "No one can sign in yet. The first account is an admin." }
                @if let Some(error) = error { p.error { (error) } }
                input type="hidden" name="csrf" value=(csrf);
                label for="email" { "Email" }
                input #email type="email" name="email" required;
                label for="name" { "Name" }
                input #name type="text" name="name";
                label for="password" { "Password (8 characters or more)" }
                input #password type="password" name="password" minlength="8" required;
                p { button type="submit" { "Create and sign in" } }
            }
        },
    )
}
