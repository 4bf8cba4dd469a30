//! Forms shown before anyone is signed in (sign-in and first-run setup) and where to go
//! after signing in.
//!
//! Those forms have no session to hold a CSRF token, so the token lives in a cookie of
//! its own and the form must carry the same value (double submit). A page elsewhere
//! that posts someone's browser into *its* account (login CSRF) cannot read the cookie,
//! and SameSite=Lax keeps the browser from sending it with a cross-site POST.

use axum::http::{HeaderMap, header};

use super::WebError;
use crate::state::AppState;
use crate::store::random_hex;

/// The cookie holding the token of the forms before sign-in.
pub const FORM_COOKIE: &str = "mayday_form";
/// The longest `next` path kept.
const MAX_NEXT: usize = 2048;

/// The token for this browser's forms before sign-in: the one it has, or a new one.
#[derive(Debug, Clone)]
pub struct FormToken {
    /// What the form carries as `csrf`.
    pub token: String,
    /// Whether the browser must be given the cookie.
    is_new: bool,
}

impl FormToken {
    /// The browser's token, or a new one.
    pub fn of(headers: &HeaderMap) -> FormToken {
        match cookie(headers, FORM_COOKIE) {
            Some(token) => FormToken {
                token,
                is_new: false,
            },
            None => FormToken {
                token: random_hex(1),
                is_new: true,
            },
        }
    }

    /// The `Set-Cookie` value to send, when the token is new.
    pub fn set_cookie(&self, state: &AppState) -> Option<String> {
        let secure = if state.config.base_url().starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        self.is_new.then(|| {
            format!(
                "{FORM_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400{secure}",
                self.token
            )
        })
    }
}

/// Checks that a form before sign-in carries the browser's own token.
pub fn check(headers: &HeaderMap, sent: &str) -> Result<(), WebError> {
    match cookie(headers, FORM_COOKIE) {
        Some(token) if !sent.is_empty() && token == sent => Ok(()),
        _ => Err(WebError::Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again.",
        )),
    }
}

/// A cookie's value from the `Cookie` header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// `next` if it is a path on this site (`/projects/1/issues`), else nothing: never
/// another site (`https://…`, `//host`, `/\host`), never a control character.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let on_this_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= MAX_NEXT
        && !next.chars().any(|c| c.is_control() || c == '\\');
    on_this_site.then(|| next.to_owned())
}

/// The sign-in page's address that comes back to `next` (and says the session expired,
/// when it did).
pub fn login_url(next: Option<&str>, expired: bool) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(next) = safe_next(next).filter(|n| n != "/") {
        query.append_pair("next", &next);
    }
    if expired {
        query.append_pair("expired", "1");
    }
    let query = query.finish();
    if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/projects/1/issues?x=1")).as_deref(),
            Some("/projects/1/issues?x=1")
        );
        for hostile in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/ok\r\nSet-Cookie: x=y",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), None, "{hostile:?}");
        }
        assert_eq!(
            login_url(Some("/projects/1/issues/2"), true),
            "/login?next=%2Fprojects%2F1%2Fissues%2F2&expired=1"
        );
        assert_eq!(login_url(Some("https://evil.example"), false), "/login");
    }
}
