//! Which key sent a request: `X-Sentry-Auth`, the `sentry_key` query parameter, or the
//! envelope header's `dsn`, checked against the project in the URL.

use std::net::IpAddr;

use axum::http::HeaderMap;
use mayday_protocol::{Dsn, SentryAuth};

use crate::error::ApiError;
use crate::pipeline::rejections::Rejection;
use crate::state::AppState;
use crate::store::{KeyInfo, now_ms};

/// Checks `public_key` (from [`request_key`] or [`envelope_key`]) against the store and
/// the project in the URL; a refusal is counted for that project (see `rejections`).
pub(super) async fn authenticate(
    state: &AppState,
    project_id: i64,
    public_key: Result<String, ApiError>,
    client: Option<IpAddr>,
) -> Result<KeyInfo, ApiError> {
    let public_key = public_key.inspect_err(|_| state.metrics.reject("auth"))?;
    let found = state
        .store
        .find_key(&public_key)
        .await
        .map_err(ApiError::from)?;
    let deny = |reason: Rejection, detail: String| {
        state.metrics.reject("auth");
        // Whether it was logged this time or earlier in the minute does not matter here.
        let _logged = state
            .rejections
            .record(project_id, reason, &public_key, client, 1, now_ms());
        ApiError::forbidden(detail)
    };
    let Some(info) = found else {
        return Err(deny(Rejection::UnknownKey, "unknown DSN key".into()));
    };
    if !info.key.active {
        return Err(deny(
            Rejection::DisabledKey,
            "this DSN key is disabled".into(),
        ));
    }
    if info.project.id != project_id {
        return Err(deny(
            Rejection::OtherProject,
            format!("this DSN key does not belong to project {project_id}"),
        ));
    }
    Ok(info)
}

/// The key the request names outside its body: `X-Sentry-Auth` (or a `Sentry`
/// `Authorization` header), else a `sentry_key` query parameter; `None` when neither
/// does.
pub(super) fn request_key(
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<Result<String, ApiError>> {
    for name in ["x-sentry-auth", "authorization"] {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            if name == "authorization"
                && !value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("sentry ")
            {
                continue;
            }
            return Some(
                SentryAuth::parse(value)
                    .map(|auth| auth.key)
                    .map_err(|e| ApiError::unauthorized(format!("{name} header: {e}"))),
            );
        }
    }
    query
        .and_then(SentryAuth::from_query)
        .map(|auth| Ok(auth.key))
}

/// The key the envelope's header names in its `dsn`, which must be for `project_id`.
pub(super) fn envelope_key(dsn: Option<&str>, project_id: i64) -> Result<String, ApiError> {
    let Some(dsn) = dsn else {
        return Err(no_credentials());
    };
    let dsn: Dsn = dsn
        .parse()
        .map_err(|e| ApiError::unauthorized(format!("envelope dsn: {e}")))?;
    if dsn.project_id() != project_id.to_string() {
        return Err(ApiError::forbidden(format!(
            "envelope dsn is for project {}, not {project_id}",
            dsn.project_id()
        )));
    }
    Ok(dsn.public_key().to_owned())
}

/// The answer to a request that names no key anywhere.
pub(super) fn no_credentials() -> ApiError {
    ApiError::unauthorized(
        "no credentials: send X-Sentry-Auth, a sentry_key query parameter, or a dsn in the envelope header",
    )
}
