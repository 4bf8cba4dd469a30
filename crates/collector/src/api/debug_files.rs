//! Debug files over the API (project admins): upload one as the request's body
//! (`?name=`), list them, delete one; through [`debug_files`](crate::debug_files) like
//! the command line.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use super::extract::{ApiAccount, ApiPath};
use super::views::{RemovedJson, time};
use crate::access::{self, Need};
use crate::debug_files::{self, DebugFileError};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::entities::{DebugFileKind, debug_file};

/// A debug file.
#[derive(Debug, Serialize)]
pub struct DebugFileJson {
    pub id: i64,
    pub name: String,
    pub debug_id: String,
    pub code_id: Option<String>,
    pub size: i64,
    pub has_sources: bool,
    pub kind: DebugFileKind,
    pub uploaded_at: String,
}

impl From<debug_file::Model> for DebugFileJson {
    fn from(file: debug_file::Model) -> Self {
        DebugFileJson {
            id: file.id,
            name: file.name,
            debug_id: file.debug_id,
            code_id: file.code_id,
            size: file.size,
            has_sources: file.has_sources,
            kind: file.kind,
            uploaded_at: time(file.created_at),
        }
    }
}

/// A project's debug files.
#[derive(Debug, Serialize)]
pub struct DebugFilesJson {
    pub debug_files: Vec<DebugFileJson>,
}

#[derive(Debug, Deserialize)]
pub(super) struct UploadQuery {
    #[serde(default)]
    name: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<DebugFilesJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let files = state.store.debug_files(project_id).await?;
    Ok(Json(DebugFilesJson {
        debug_files: files.into_iter().map(DebugFileJson::from).collect(),
    }))
}

pub(super) async fn upload(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Result<Json<DebugFileJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let name = query.name.unwrap_or_default();
    let file = debug_files::upload(
        &state.store,
        &account,
        project_id,
        &name,
        &body,
        state.config.debug_files_max_bytes,
    )
    .await
    .map_err(|error| match error {
        DebugFileError::Store(StoreError::AtLimit(text)) => {
            ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, text)
        }
        DebugFileError::Store(e) => e.into(),
        other => ApiError::bad_request(other.to_string()),
    })?;
    spawn_after_upload(&state, project_id, &file);
    Ok(Json(file.into()))
}

/// Helps, in the background, the stored events that arrived before `file`: names
/// their frames (an ELF file) or adds source lines (a source bundle).
pub(super) fn spawn_after_upload(state: &AppState, project_id: i64, file: &debug_file::Model) {
    let (state, debug_id, kind) = (state.clone(), file.debug_id.clone(), file.kind);
    tokio::spawn(async move {
        match crate::pipeline::symbolicate::after_upload(
            &state.store,
            &state.symbolicator,
            project_id,
            &debug_id,
            kind,
        )
        .await
        {
            Ok(0) => {}
            Ok(changed) => {
                tracing::info!(changed, debug_id, %kind, "stored events helped by a new file")
            }
            Err(error) => tracing::warn!(%error, debug_id, "naming stored events failed"),
        }
    });
}

pub(super) async fn remove(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, file_id)): ApiPath<(i64, i64)>,
) -> Result<Json<RemovedJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    if !debug_files::remove(&state.store, &account, project_id, file_id).await? {
        return Err(ApiError::not_found(format!(
            "debug file {file_id} not found"
        )));
    }
    Ok(Json(RemovedJson { removed: file_id }))
}
