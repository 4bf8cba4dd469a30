//! Sign-in sessions: an HttpOnly cookie holding a random token (stored hashed), a CSRF
//! token per session, and slowing down repeated failed sign-ins.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::accounts::{self, SESSION_TTL_MS, token_hash};
use crate::store::entities::account;
use crate::store::{StoreError, now_ms};

/// The session cookie's name.
pub const COOKIE: &str = "mayday_session";
/// Failed sign-ins allowed per account or address before waiting.
const FREE_FAILURES: u32 = 5;
/// How long failures are remembered, and the wait once they pile up.
const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

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

/// The session token from the `Cookie` header, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let token = cookie_token(&parts.headers).ok_or_else(to_login)?;
        let hash = token_hash(&token);
        match state.store.session(&hash).await {
            Ok(Some((session, account))) => Ok(SignedIn {
                account,
                csrf: session.csrf_token,
                token_hash: hash,
            }),
            Ok(None) => Err(to_login()),
            Err(error) => Err(super::WebError::from(error).into_response()),
        }
    }
}

/// The client's address, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// Counts failed sign-ins per account and per address.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl SignInThrottle {
    fn keys(email: &str, addr: ClientAddr) -> Vec<String> {
        let mut keys = vec![format!("account:{}", email.trim().to_lowercase())];
        if let Some(ip) = addr.0 {
            keys.push(format!("ip:{ip}"));
        }
        keys
    }

    /// Seconds to wait before trying again, if too many attempts failed lately.
    pub fn wait_seconds(&self, email: &str, addr: ClientAddr) -> Option<i64> {
        let now = now_ms();
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(email, addr)
            .iter()
            .filter_map(|key| failures.get(key))
            .filter(|(count, last)| *count >= FREE_FAILURES && now - last < FAILURE_WINDOW_MS)
            .map(|(_, last)| (FAILURE_WINDOW_MS - (now - last)) / 1000 + 1)
            .max()
    }

    /// Records a failed attempt.
    pub fn failed(&self, email: &str, addr: ClientAddr) {
        let now = now_ms();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, (_, last)| now - *last < FAILURE_WINDOW_MS);
        }
        for key in Self::keys(email, addr) {
            let entry = failures.entry(key).or_insert((0, now));
            if now - entry.1 >= FAILURE_WINDOW_MS {
                *entry = (0, now);
            }
            entry.0 += 1;
            entry.1 = now;
        }
    }

    /// Forgets an account's failures after it signed in.
    pub fn succeeded(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("account:{}", email.trim().to_lowercase()));
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

    #[test]
    fn failures_slow_down_per_account_and_address() {
        let throttle = SignInThrottle::default();
        let addr = ClientAddr(Some("203.0.113.9".parse().unwrap()));
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.wait_seconds("Jane@example.com", addr), None);
            throttle.failed("jane@example.com", addr);
        }
        assert!(
            throttle
                .wait_seconds("jane@example.com", ClientAddr(None))
                .is_some(),
            "per account"
        );
        assert!(
            throttle.wait_seconds("other@example.com", addr).is_some(),
            "per address"
        );
        assert_eq!(
            throttle.wait_seconds("other@example.com", ClientAddr(None)),
            None
        );
        throttle.succeeded("jane@example.com");
        assert_eq!(
            throttle.wait_seconds("jane@example.com", ClientAddr(None)),
            None
        );
    }
}
