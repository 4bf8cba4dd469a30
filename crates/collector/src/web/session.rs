//! Sign-in sessions: an HttpOnly cookie holding a random token (stored hashed), a CSRF
//! token per session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::Viewer;
use super::preauth;
use crate::accounts::{self, SESSION_TTL_MS, token_hash};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::entities::account;

/// The session cookie's name.
pub const COOKIE: &str = "mayday_session";

/// The signed-in account of a request, with its session's CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account.
    pub account: account::Model,
    /// What forms must carry as `csrf`.
    pub csrf: String,
    /// The session cookie's token hash.
    pub token_hash: String,
}

impl<'a> From<&'a SignedIn> for Viewer<'a> {
    fn from(signed_in: &'a SignedIn) -> Self {
        Viewer {
            email: &signed_in.account.email,
            is_admin: signed_in.account.is_admin,
            csrf: &signed_in.csrf,
        }
    }
}

/// The session token from the `Cookie` header, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    preauth::cookie(headers, COOKIE)
}

/// Where a request without a (valid) session is sent: sign in, then back to the page
/// asked for, or, for a form, to the page the form was on (its action cannot be
/// replayed). `expired` when the browser had a session that is no longer valid.
fn to_login(parts: &Parts, expired: bool) -> Response {
    let next = if parts.method == axum::http::Method::GET {
        parts.uri.path_and_query().map(|p| p.as_str().to_owned())
    } else {
        parts
            .headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url::Url::parse(r).ok())
            .map(|r| match r.query() {
                Some(q) => format!("{}?{q}", r.path()),
                None => r.path().to_owned(),
            })
    };
    Redirect::to(&preauth::login_url(next.as_deref(), expired)).into_response()
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie_token(&parts.headers).ok_or_else(|| to_login(parts, false))?;
        let hash = token_hash(&token);
        match state.store.session(&hash).await {
            // The password was right, the code is still to come.
            Ok(Some((session, _))) if session.second_factor_pending => {
                Err(Redirect::to("/login/code").into_response())
            }
            // Everyone must have a second factor: set it up before anything else.
            Ok(Some((_, account)))
                if state.config.require_two_factor
                    && !account.has_two_factor()
                    && !parts.uri.path().starts_with("/account/two-factor") =>
            {
                Err(Redirect::to("/account/two-factor").into_response())
            }
            Ok(Some((session, account))) => Ok(SignedIn {
                account,
                csrf: session.csrf_token,
                token_hash: hash,
            }),
            Ok(None) => Err(to_login(parts, true)),
            Err(error) => Err(super::WebError::from(error).into_response()),
        }
    }
}

/// Starts a session for `account_id`; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, account_id: i64) -> Result<String, StoreError> {
    let session = accounts::start_session(&state.store, account_id).await?;
    Ok(cookie_value(state, &session.token, SESSION_TTL_MS / 1000))
}

/// The `Set-Cookie` value for `token` (empty with max-age 0 to clear it).
pub fn cookie_value(state: &AppState, token: &str, max_age_seconds: i64) -> String {
    let secure = if state.config.base_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "theme=dark; mayday_session=abc123; x=y".parse().unwrap(),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("abc123"));
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }
}
