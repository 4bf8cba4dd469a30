//! What a page answers when it cannot do what was asked: an HTML error page with one
//! status, made from the domain's and the store's errors, so that handlers use `?`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::layout::{html, message_page};
use crate::access::AccessError;
use crate::accounts::AccountError;
use crate::issues::QueryError;
use crate::store::StoreError;

/// An error page.
#[derive(Debug)]
pub enum WebError {
    /// It does not exist, or the account may not see it.
    NotFound,
    /// The request cannot be done as sent; the text says why, for the user.
    BadRequest(String),
    /// Not allowed: an expired or foreign CSRF token, or a role that does not allow it.
    Forbidden(&'static str),
    /// Something by that name exists already.
    Conflict(String),
    /// The store failed: logged; the page says little.
    Store(StoreError),
    /// Something on our side failed.
    Internal(&'static str),
}

impl WebError {
    fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, "Not found.".into()),
            WebError::BadRequest(message) => (StatusCode::BAD_REQUEST, message.clone()),
            WebError::Forbidden(message) => (StatusCode::FORBIDDEN, (*message).into()),
            WebError::Conflict(what) => (StatusCode::CONFLICT, format!("{what} already exists.")),
            WebError::Store(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not answering. Try again in a moment.".into(),
            ),
            WebError::Internal(message) => (StatusCode::INTERNAL_SERVER_ERROR, (*message).into()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Store(error) = &self {
            tracing::error!(%error, "storage error");
        }
        let (status, message) = self.status_and_message();
        (status, html(message_page(status, &message))).into_response()
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(_) => WebError::NotFound,
            StoreError::Conflict(what) => WebError::Conflict(what),
            other => WebError::Store(other),
        }
    }
}

impl From<AccessError> for WebError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::NotFound(_) => WebError::NotFound,
            AccessError::Forbidden(_) => {
                WebError::Forbidden("Only a project admin may do this. Ask one of them.")
            }
            AccessError::Store(error) => error.into(),
        }
    }
}

impl From<QueryError> for WebError {
    fn from(error: QueryError) -> Self {
        WebError::BadRequest(error.to_string())
    }
}

impl From<crate::projects::SettingsError> for WebError {
    fn from(error: crate::projects::SettingsError) -> Self {
        use crate::projects::SettingsError;
        match error {
            SettingsError::Invalid(message) => WebError::BadRequest(message),
            SettingsError::Store(error) => error.into(),
        }
    }
}

/// What to tell the user about a mistake they can fix in a form, if `error` is one.
pub(super) fn form_mistake(error: &AccountError) -> Option<String> {
    match error {
        AccountError::InvalidEmail(_) => Some("That is not an email address.".into()),
        AccountError::PasswordTooShort => Some(format!(
            "The password needs at least {} characters.",
            crate::accounts::MIN_PASSWORD_CHARS
        )),
        AccountError::WrongPassword => Some("The current password is not right.".into()),
        AccountError::Hashing(_) | AccountError::Store(_) => None,
    }
}

impl From<AccountError> for WebError {
    fn from(error: AccountError) -> Self {
        if let Some(message) = form_mistake(&error) {
            return WebError::BadRequest(message);
        }
        match error {
            AccountError::Store(error) => error.into(),
            _ => WebError::Internal("Could not hash the password."),
        }
    }
}
