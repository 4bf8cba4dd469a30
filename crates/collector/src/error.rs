//! HTTP errors: one status and a JSON body `{"detail": "..."}` naming the problem.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub detail: String,
    /// Extra headers (such as `Retry-After`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with `status` and `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 413.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }

    /// 503 with `Retry-After: seconds`: a passing condition (the database away, too
    /// many searches at once), to be tried again.
    pub fn unavailable(detail: impl Into<String>, seconds: u32) -> Self {
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, detail);
        error
            .headers
            .push((axum::http::header::RETRY_AFTER, HeaderValue::from(seconds)));
        error
    }

    /// The database did not answer: 503, retry in a few seconds (nothing was stored).
    pub fn storage_unavailable() -> Self {
        Self::unavailable("storage is unavailable; retry later", STORAGE_RETRY_SECONDS)
    }
}

/// When a client may try again after the database did not answer.
const STORAGE_RETRY_SECONDS: u32 = 5;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StoreError::Conflict(what) => {
                ApiError::new(StatusCode::CONFLICT, format!("{what} already exists"))
            }
            StoreError::AtLimit(what) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, what),
            StoreError::Busy | StoreError::TimedOut(_) => {
                let mut error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string());
                error.headers.push((
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(1),
                ));
                error
            }
            other => {
                // Storage trouble is ours, not the client's: log it, say little.
                tracing::error!(error = %other, "storage error");
                ApiError::storage_unavailable()
            }
        }
    }
}

impl From<crate::access::AccessError> for ApiError {
    fn from(error: crate::access::AccessError) -> Self {
        match error {
            crate::access::AccessError::NotFound(what) => {
                ApiError::not_found(format!("{what} not found"))
            }
            crate::access::AccessError::Forbidden(_) => {
                ApiError::new(StatusCode::FORBIDDEN, error.to_string())
            }
            crate::access::AccessError::Store(error) => error.into(),
        }
    }
}

impl From<crate::issues::QueryError> for ApiError {
    fn from(error: crate::issues::QueryError) -> Self {
        ApiError::bad_request(error.to_string())
    }
}

impl From<crate::accounts::AccountError> for ApiError {
    fn from(error: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError;
        match error {
            AccountError::InvalidEmail(_)
            | AccountError::PasswordTooShort
            | AccountError::WrongPassword => ApiError::bad_request(error.to_string()),
            AccountError::Hashing(_) => {
                tracing::error!(%error, "hashing a password failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not hash the password",
                )
            }
            AccountError::Store(error) => error.into(),
        }
    }
}

impl From<crate::monitors::MonitorError> for ApiError {
    fn from(error: crate::monitors::MonitorError) -> Self {
        use crate::monitors::MonitorError;
        match error {
            MonitorError::Invalid(_) | MonitorError::Target(_) => {
                ApiError::bad_request(error.to_string())
            }
            MonitorError::Store(error) => error.into(),
        }
    }
}

impl From<crate::projects::SettingsError> for ApiError {
    fn from(error: crate::projects::SettingsError) -> Self {
        use crate::projects::SettingsError;
        match error {
            SettingsError::Invalid(message) => ApiError::bad_request(message),
            SettingsError::Store(error) => error.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(serde_json::json!({ "detail": self.detail })),
        )
            .into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
