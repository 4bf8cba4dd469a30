//! Two-factor sign-in in the browser: `/account/two-factor` (set up with a QR code or
//! the key, confirm with a code, see the recovery codes once, make new ones, turn it
//! off) and `/login/code`, the step after a right password for an account that has it.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::format::when;
use super::layout::{self, html_with_status};
use super::preauth;
use super::session::{self, SignedIn};
use super::{WebError, forms, forms::check_csrf};
use crate::accounts::{self, token_hash};
use crate::request::ClientAddr;
use crate::state::AppState;
use crate::store::entities::account;
use crate::two_factor::{self, TwoFactorError};

/// What the two-factor page's forms ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Start,
    Confirm,
    RenewCodes,
    TurnOff,
}

#[derive(Deserialize)]
pub(super) struct TwoFactorForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    code: String,
}

/// What the page says above its sections.
enum Note {
    None,
    Error(String),
    Codes(Vec<String>),
}

/// `GET /account/two-factor`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    render(
        &state,
        &signed_in,
        &signed_in.account,
        StatusCode::OK,
        Note::None,
    )
    .await
}

/// `POST /account/two-factor`.
pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<TwoFactorForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    let store = &state.store;
    let me = &signed_in.account;
    let refused = |error: TwoFactorError| match error {
        TwoFactorError::Store(error) => Err(WebError::from(error)),
        other => Ok(Note::Error(crate::web::format::sentence(
            &other.to_string(),
        ))),
    };
    let (status, note) = match forms::action::<Action>(&form.action)? {
        Action::Start => match two_factor::start(store, me).await {
            Ok(_) => (StatusCode::OK, Note::None),
            Err(error) => (StatusCode::BAD_REQUEST, refused(error)?),
        },
        Action::Confirm => match two_factor::confirm(store, me, &form.code).await {
            Ok(codes) => (StatusCode::OK, Note::Codes(codes)),
            Err(error) => (StatusCode::BAD_REQUEST, refused(error)?),
        },
        action @ (Action::RenewCodes | Action::TurnOff) => {
            // Only with a current code: a session left open is not enough.
            let right = match two_factor::verify(store, me, &form.code).await {
                Ok(right) => right,
                Err(error) => {
                    refused(error)?;
                    false
                }
            };
            match (right, action) {
                (false, _) => (
                    StatusCode::BAD_REQUEST,
                    Note::Error(
                        "That code is not right; type the 6 digits the app shows now.".into(),
                    ),
                ),
                (true, Action::RenewCodes) => (
                    StatusCode::OK,
                    Note::Codes(two_factor::renew_recovery_codes(store, me.id).await?),
                ),
                (true, _) => {
                    store.clear_totp(me.id).await?;
                    // Clearing ended every session, this one too: sign in again.
                    return Ok(Redirect::to("/login").into_response());
                }
            }
        }
    };
    let account = store.account_by_email(&me.email).await?;
    render(&state, &signed_in, &account, status, note).await
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    account: &account::Model,
    status: StatusCode,
    note: Note,
) -> Result<Response, WebError> {
    let left = state.store.unused_recovery_codes(account.id).await?;
    let required = state.config.require_two_factor;
    let csrf = &signed_in.csrf;
    let body = html! {
        h1 { "Two-factor sign-in" }
        p { a href="/account" { "← your account" } }
        @if required && !account.has_two_factor() {
            p.notice role="status" { "This collector asks everyone to sign in with a second factor: set it up to go on." }
        }
        @match &note {
            Note::None => {}
            Note::Error(message) => { p.notice.failed role="alert" { (message) } }
            Note::Codes(codes) => {
                section.notice role="status" aria-labelledby="codes-title" {
                    h2 #codes-title { "Your recovery codes" }
                    p { "Each signs you in once if you lose your phone. Keep them somewhere safe: they are not shown again." }
                    ul.codes { @for code in codes { li { code { (code) } } } }
                }
            }
        }
        @if account.has_two_factor() {
            p { "On since " (when(account.totp_enabled_at.unwrap_or_default())) ". Signing in asks for the code your authenticator app shows, or a recovery code (" (left) " left)." }
            section {
                h2 { "New recovery codes" }
                form method="post" action="/account/two-factor" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="renew_codes";
                    label { span.label { "Code from the app" } input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required; } " "
                    button type="submit" { "Make new codes" }
                }
            }
            @if !required {
                section {
                    h2 { "Turn it off" }
                    form method="post" action="/account/two-factor" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="action" value="turn_off";
                        label { span.label { "Code from the app" } input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required; } " "
                        button type="submit" { "Turn off" }
                    }
                }
            }
        } @else if let Some(enrolment) = two_factor::pending_enrolment(account) {
            section {
                h2 { "1. Scan this with your authenticator app" }
                figure.qr {
                    (PreEscaped(&enrolment.qr_svg))
                    figcaption { "Or type this key: " code.key { (enrolment.key) } }
                }
                h2 { "2. Type the code it shows" }
                form method="post" action="/account/two-factor" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="confirm";
                    label { span.label { "6-digit code" } input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required; } " "
                    button type="submit" { "Turn on" }
                }
            }
        } @else {
            p { "Signing in asks only for your password. With a second factor it also asks for a code from an authenticator app on your phone (any app that follows TOTP: 1Password, Google Authenticator, Aegis, ...)." }
            form method="post" action="/account/two-factor" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="start";
                button type="submit" { "Set up two-factor sign-in" }
            }
        }
    };
    Ok(html_with_status(
        status,
        layout::page("Two-factor sign-in", signed_in, body),
    ))
}

#[derive(Deserialize)]
pub(super) struct CodeQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
}

/// The session waiting for its second factor, from the cookie.
async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, String, account::Model)>, WebError> {
    let Some(token) = session::cookie_token(headers) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    Ok(match state.store.session(&hash).await? {
        Some((session, account)) if session.second_factor_pending => {
            Some((hash, session.csrf_token, account))
        }
        _ => None,
    })
}

fn code_page(csrf: &str, next: Option<&str>, error: Option<&str>) -> Markup {
    layout::layout(
        "Sign in: code",
        None,
        html! {
            form.login method="post" action="/login/code" {
                h1 { "Two-factor sign-in" }
                @if let Some(error) = error { p.error role="alert" { (error) } }
                input type="hidden" name="csrf" value=(csrf);
                @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                label for="code" { "The code your authenticator app shows, or a recovery code" }
                input #code type="text" name="code" autocomplete="one-time-code" autofocus required;
                button type="submit" { "Sign in" }
                p { a href="/login" { "Sign in as someone else" } }
            }
        },
    )
}

/// `GET /login/code`.
pub(super) async fn code_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CodeQuery>,
) -> Result<Response, WebError> {
    let Some((_, csrf, _)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let next = preauth::safe_next(query.next.as_deref());
    Ok(html_with_status(
        StatusCode::OK,
        code_page(&csrf, next.as_deref(), None),
    ))
}

/// `POST /login/code`: the second factor; throttled like passwords.
pub(super) async fn code(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let Some((hash, csrf, account)) = pending(&state, &headers).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    if form.csrf != csrf {
        return Err(WebError::Forbidden("This form has expired. Sign in again."));
    }
    let next = preauth::safe_next(form.next.as_deref());
    let attempt = match state.sign_in_throttle.attempt(&account.email, addr.0) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let message = format!("Too many wrong codes. Try again in {wait} s.");
            let mut response = html_with_status(
                StatusCode::TOO_MANY_REQUESTS,
                code_page(&csrf, next.as_deref(), Some(&message)),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return Ok(response);
        }
    };
    let right = two_factor::verify(&state.store, &account, &form.code)
        .await
        .map_err(|error| match error {
            TwoFactorError::Store(error) => WebError::from(error),
            _ => {
                WebError::Internal("The stored second factor is unreadable; an admin can reset it.")
            }
        })?;
    if !right {
        state.sign_in_throttle.failed(attempt);
        return Ok(html_with_status(
            StatusCode::UNAUTHORIZED,
            code_page(
                &csrf,
                next.as_deref(),
                Some(
                    "That code is not right (each code works once). Type the one the app shows now.",
                ),
            ),
        ));
    }
    state.sign_in_throttle.succeeded(attempt);
    let full = accounts::NewSession::new();
    if !state
        .store
        .complete_session(
            &hash,
            &token_hash(&full.token),
            &full.csrf,
            accounts::SESSION_TTL_MS,
        )
        .await?
    {
        return Ok(Redirect::to("/login").into_response());
    }
    let cookie = session::cookie_value(&state, &full.token, accounts::SESSION_TTL_MS / 1000);
    let to = next.unwrap_or_else(|| "/".to_owned());
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response())
}
