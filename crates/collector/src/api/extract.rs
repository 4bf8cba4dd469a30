//! What API handlers take from a request: the account its token acts for, and JSON
//! bodies whose problems answer 400 in the API's own error shape.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::accounts;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::account;

/// The account the request's bearer token acts for.
pub struct ApiAccount(pub account::Model);

impl FromRequestParts<AppState> for ApiAccount {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("Authorization must be \"Bearer <token>\""))?;
        accounts::account_by_api_token(&state.store, token)
            .await?
            .map(ApiAccount)
            .ok_or_else(|| ApiError::unauthorized("unknown token"))
    }
}

/// A JSON body: a malformed one answers 400 `{"detail": "..."}` naming the problem
/// (axum's own `Json` answers in plain text).
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(AppJson(value)),
            Err(rejection) => {
                // A body that parses but does not fit (422 in axum) is a bad request too.
                let status = match rejection.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Err(ApiError::new(
                    status,
                    format!(
                        "the JSON body was not understood: {}",
                        rejection.body_text()
                    ),
                ))
            }
        }
    }
}

/// Path parameters: one that does not parse (an id past `i64::MAX`, say) answers 400
/// `{"detail": "..."}`.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::bad_request(format!(
                "the path was not understood: {}",
                rejection.body_text()
            ))),
        }
    }
}
