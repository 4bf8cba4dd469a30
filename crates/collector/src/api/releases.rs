//! Releases over the API: the list, one in detail (per route), deploys, and the deploy
//! check CI waits on (`mayday-collector deploy check` asks it).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::extract::{ApiAccount, ApiPath, AppJson};
use super::views::time;
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::release_health::{self, Check, DeployError, ReleaseDetail, ReleaseSummary};
use crate::state::AppState;

/// `?environment=` (all environments when absent).
#[derive(Debug, Deserialize)]
pub(super) struct EnvironmentQuery {
    environment: Option<String>,
}

/// `?environment=&previous=`.
#[derive(Debug, Deserialize)]
pub(super) struct CheckQuery {
    environment: Option<String>,
    previous: Option<String>,
}

/// A project's releases.
#[derive(Debug, Serialize)]
pub struct ReleasesJson {
    pub releases: Vec<ReleaseSummary>,
}

/// `GET /api/v1/projects/{id}/releases`.
pub(super) async fn list(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    Query(query): Query<EnvironmentQuery>,
) -> Result<Json<ReleasesJson>, ApiError> {
    let project = access::project_for(&state.store, &account, project_id, Need::View).await?;
    let releases =
        release_health::list(&state.store, &project, query.environment.as_deref()).await?;
    Ok(Json(ReleasesJson { releases }))
}

/// `GET /api/v1/projects/{id}/releases/{version}`.
pub(super) async fn detail(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, version)): ApiPath<(i64, String)>,
    Query(query): Query<EnvironmentQuery>,
) -> Result<Json<ReleaseDetail>, ApiError> {
    let project = access::project_for(&state.store, &account, project_id, Need::View).await?;
    Ok(Json(
        release_health::detail(
            &state.store,
            &project,
            &version,
            query.environment.as_deref(),
            &state.config.base_url(),
        )
        .await?,
    ))
}

/// `POST /api/v1/projects/{id}/releases/{version}/deploys` body.
#[derive(Debug, Deserialize)]
pub(super) struct DeployBody {
    environment: String,
}

/// A recorded deploy.
#[derive(Debug, Serialize)]
pub struct DeployJson {
    pub id: i64,
    pub release: String,
    pub environment: String,
    pub deployed_at: String,
}

/// `POST /api/v1/projects/{id}/releases/{version}/deploys`.
pub(super) async fn deploy(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, version)): ApiPath<(i64, String)>,
    AppJson(body): AppJson<DeployBody>,
) -> Result<Json<DeployJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Triage).await?;
    let deploy =
        release_health::record_deploy(&state.store, project_id, &version, &body.environment)
            .await
            .map_err(|error| match error {
                DeployError::Store(e) => e.into(),
                bad => ApiError::bad_request(bad.to_string()),
            })?;
    Ok(Json(DeployJson {
        id: deploy.id,
        release: deploy.release,
        environment: deploy.environment,
        deployed_at: time(deploy.deployed_at),
    }))
}

/// `GET /api/v1/projects/{id}/releases/{version}/check`.
pub(super) async fn check(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, version)): ApiPath<(i64, String)>,
    Query(query): Query<CheckQuery>,
) -> Result<Json<Check>, ApiError> {
    let project = access::project_for(&state.store, &account, project_id, Need::View).await?;
    Ok(Json(
        release_health::check(
            &state.store,
            &project,
            &version,
            query.previous.as_deref(),
            query.environment.as_deref(),
            &state.config.base_url(),
        )
        .await?,
    ))
}
