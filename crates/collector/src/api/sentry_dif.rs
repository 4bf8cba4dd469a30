//! `sentry-cli debug-files upload` pointed at Mayday (`--url`, `--auth-token` a Mayday
//! API token of a project admin, any `--org`, `--project` the project's name): Sentry's
//! chunk-upload protocol.
//!
//! 1. `GET /api/0/organizations/{org}/chunk-upload/` says how to upload: chunk size,
//!    chunks per request, SHA-1, gzip, and that debug files are accepted;
//! 2. `POST /api/0/projects/{org}/{project}/files/difs/assemble/` with each file's SHA-1,
//!    name and its chunks' SHA-1s answers, per file, the chunks still missing;
//! 3. the missing chunks are posted to the chunk URL (multipart, `file` or `file_gzip`
//!    parts, each named by its SHA-1, which is checked);
//! 4. assemble again: the file is joined, checked (its SHA-1, then as a debug file) and
//!    stored like any upload; the answer says `ok` with the debug file, or `error` with
//!    why.

use std::collections::HashMap;
use std::io::Read;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::extract::ApiAccount;
use crate::access::{self, Need};
use crate::debug_files::{self, DebugFileError};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::entities::DebugFileKind;

/// Bytes per chunk (a power of two, as older `sentry-cli`s require).
const CHUNK_SIZE: usize = 8 << 20;
/// Chunks per request.
const CHUNKS_PER_REQUEST: usize = 8;
/// The largest request of chunks.
pub const MAX_REQUEST_SIZE: usize = 64 << 20;

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// `GET /api/0/organizations/{org}/chunk-upload/`.
pub(super) async fn options(
    State(state): State<AppState>,
    ApiAccount(_account): ApiAccount,
    Path(org): Path<String>,
) -> Json<Value> {
    Json(json!({
        "url": format!("{}/api/0/organizations/{org}/chunk-upload/", state.config.base_url()),
        "chunkSize": CHUNK_SIZE,
        "chunksPerRequest": CHUNKS_PER_REQUEST,
        "maxFileSize": state.config.debug_files_max_bytes,
        "maxRequestSize": MAX_REQUEST_SIZE,
        "concurrency": 1,
        "hashAlgorithm": "sha1",
        "compression": ["gzip"],
        "accept": ["debug_files", "sources"],
    }))
}

/// `POST /api/0/organizations/{org}/chunk-upload/`: chunks, each part named by the
/// SHA-1 of its (uncompressed) bytes.
pub(super) async fn chunks(
    State(state): State<AppState>,
    ApiAccount(_account): ApiAccount,
    mut multipart: Multipart,
) -> Result<Json<Value>, ApiError> {
    let bad = |text: String| ApiError::bad_request(text);
    let mut count = 0;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(format!("not a multipart body of chunks: {e}")))?
    {
        let gzip = match field.name() {
            Some("file") => false,
            Some("file_gzip") => true,
            _ => continue,
        };
        count += 1;
        if count > CHUNKS_PER_REQUEST {
            return Err(bad(format!(
                "at most {CHUNKS_PER_REQUEST} chunks a request"
            )));
        }
        let named = field.file_name().unwrap_or_default().to_ascii_lowercase();
        let body = field
            .bytes()
            .await
            .map_err(|e| bad(format!("a chunk could not be read: {e}")))?;
        let data = if gzip {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(CHUNK_SIZE as u64 + 1)
                .read_to_end(&mut plain)
                .map_err(|_| bad(format!("chunk {named}: not gzip")))?;
            plain
        } else {
            body.to_vec()
        };
        if data.len() > CHUNK_SIZE {
            return Err(bad(format!("chunk {named}: more than {CHUNK_SIZE} bytes")));
        }
        let checksum = sha1_hex(&data);
        if checksum != named {
            return Err(bad(format!(
                "chunk {named}: its bytes have the SHA-1 {checksum}"
            )));
        }
        state.store.add_upload_chunk(&checksum, data).await?;
    }
    Ok(Json(json!({})))
}

/// One file to assemble.
#[derive(Debug, Deserialize)]
pub(super) struct Assemble {
    name: String,
    #[serde(default)]
    chunks: Vec<String>,
}

/// `POST /api/0/projects/{org}/{project}/files/difs/assemble/`.
pub(super) async fn assemble(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    Path((_org, project)): Path<(String, String)>,
    Json(files): Json<HashMap<String, Assemble>>,
) -> Result<Json<Value>, ApiError> {
    let project = state
        .store
        .project_by_name(&project)
        .await
        .map_err(|_| ApiError::not_found(format!("project {project} not found")))?;
    access::project_for(&state.store, &account, project.id, Need::Manage).await?;
    let mut answer = serde_json::Map::new();
    for (checksum, file) in files {
        let checksum = checksum.to_ascii_lowercase();
        let missing = state.store.missing_chunks(&file.chunks).await?;
        if !missing.is_empty() || file.chunks.is_empty() {
            answer.insert(
                checksum,
                json!({"state": "not_found", "missingChunks": missing, "detail": null, "dif": null}),
            );
            continue;
        }
        let Some(bytes) = state.store.join_chunks(&file.chunks).await? else {
            answer.insert(
                checksum,
                json!({"state": "not_found", "missingChunks": file.chunks, "detail": null, "dif": null}),
            );
            continue;
        };
        if sha1_hex(&bytes) != checksum {
            answer.insert(
                checksum,
                json!({"state": "error", "missingChunks": [], "detail": "the joined chunks do not have the file's SHA-1", "dif": null}),
            );
            continue;
        }
        let stored = debug_files::upload(
            &state.store,
            &account,
            project.id,
            &file.name,
            &bytes,
            state.config.debug_files_max_bytes,
        )
        .await;
        if let Ok(dif) = &stored {
            super::debug_files::spawn_after_upload(&state, project.id, dif);
        }
        let entry = match stored {
            Ok(dif) => json!({
                "state": "ok",
                "missingChunks": [],
                "detail": null,
                "dif": {
                    "id": dif.id.to_string(),
                    "uuid": dif.debug_id,
                    "debugId": dif.debug_id,
                    "codeId": dif.code_id,
                    "objectName": dif.name,
                    "cpuName": "x86_64",
                    "headers": {},
                    "size": dif.size,
                    "sha1": checksum,
                    "dateCreated": super::views::time(dif.created_at),
                    "symbolType": match dif.kind {
                        DebugFileKind::Elf => "elf",
                        DebugFileKind::Sources => "sourcebundle",
                    },
                    "data": {"features": match dif.kind {
                        DebugFileKind::Elf => ["debug", "symtab"].as_slice(),
                        DebugFileKind::Sources => ["sources"].as_slice(),
                    }},
                },
            }),
            Err(DebugFileError::Store(StoreError::AtLimit(text))) => {
                json!({"state": "error", "missingChunks": [], "detail": text, "dif": null})
            }
            Err(DebugFileError::Store(e)) => return Err(e.into()),
            Err(other) => {
                json!({"state": "error", "missingChunks": [], "detail": other.to_string(), "dif": null})
            }
        };
        answer.insert(checksum, entry);
    }
    Ok(Json(Value::Object(answer)))
}
