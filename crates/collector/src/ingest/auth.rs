//! Which key sent a request: `X-Sentry-Auth`, the `sentry_key` query parameter, or the
//! envelope header's `dsn`, checked against the project in the URL.

use axum::http::HeaderMap;
use mayday_protocol::{Dsn, SentryAuth};

use crate::AppState;
use crate::error::ApiError;
use crate::store::KeyInfo;

pub(super) async fn authenticate(
    state: &AppState,
    project_id: i64,
    headers: &HeaderMap,
    query: Option<&str>,
    envelope_dsn: Option<&str>,
) -> Result<KeyInfo, ApiError> {
    let public_key = public_key(headers, query, envelope_dsn, project_id)
        .inspect_err(|_| state.metrics.reject("auth"))?;
    let found = state
        .store
        .find_key(&public_key)
        .await
        .map_err(ApiError::from)?;
    let deny = |detail: String| {
        state.metrics.reject("auth");
        ApiError::forbidden(detail)
    };
    let Some(info) = found else {
        return Err(deny("unknown DSN key".into()));
    };
    if !info.key.active {
        return Err(deny("this DSN key is disabled".into()));
    }
    if info.project.id != project_id {
        return Err(deny(format!(
            "this DSN key does not belong to project {project_id}"
        )));
    }
    Ok(info)
}

fn public_key(
    headers: &HeaderMap,
    query: Option<&str>,
    envelope_dsn: Option<&str>,
    project_id: i64,
) -> Result<String, ApiError> {
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
            return SentryAuth::parse(value)
                .map(|auth| auth.key)
                .map_err(|e| ApiError::unauthorized(format!("{name} header: {e}")));
        }
    }
    if let Some(auth) = query.and_then(SentryAuth::from_query) {
        return Ok(auth.key);
    }
    if let Some(dsn) = envelope_dsn {
        let dsn: Dsn = dsn
            .parse()
            .map_err(|e| ApiError::unauthorized(format!("envelope dsn: {e}")))?;
        if dsn.project_id() != project_id.to_string() {
            return Err(ApiError::forbidden(format!(
                "envelope dsn is for project {}, not {project_id}",
                dsn.project_id()
            )));
        }
        return Ok(dsn.public_key().to_owned());
    }
    Err(ApiError::unauthorized(
        "no credentials: send X-Sentry-Auth, a sentry_key query parameter, or a dsn in the envelope header",
    ))
}
