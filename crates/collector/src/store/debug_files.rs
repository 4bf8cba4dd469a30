//! Debug files: stored once per (project, debug id, kind), replaced when uploaded again, in
//! chunks of [`CHUNK`] bytes; a project's total is capped by the caller's limit, checked
//! in the same transaction as the write.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{DebugFileKind, debug_file, debug_file_chunk, event, issue, upload_chunk};
use super::{Store, StoreError, now_ms};

/// Bytes per stored chunk.
const CHUNK: usize = 4 << 20;

/// A debug file to store.
#[derive(Debug, Clone)]
pub struct NewDebugFile<'a> {
    /// An ELF file or a source bundle.
    pub kind: DebugFileKind,
    /// Sentry's debug id.
    pub debug_id: &'a str,
    /// The GNU build id, hex.
    pub code_id: Option<&'a str>,
    /// The name it was uploaded under.
    pub name: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
}

/// How long an uploaded chunk waits for its file to be assembled.
const CHUNK_TTL_MS: i64 = 3_600_000;

impl Store {
    /// Replaces a stored event's payload (its frames named after its debug file came).
    pub async fn replace_event_payload(
        &self,
        row_id: i64,
        payload: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.write(async |txn| {
            event::Entity::update_many()
                .col_expr(
                    event::Column::Payload,
                    sea_orm::sea_query::Expr::value(payload),
                )
                .filter(event::Column::Id.eq(row_id))
                .exec(txn)
                .await?;
            Ok(())
        })
        .await
    }

    /// The live (not merged) issue of `project_id` with `fingerprint`, if there is one.
    pub async fn issue_by_fingerprint(
        &self,
        project_id: i64,
        fingerprint: &str,
    ) -> Result<Option<issue::Model>, StoreError> {
        Ok(issue::Entity::find()
            .filter(issue::Column::ProjectId.eq(project_id))
            .filter(issue::Column::Fingerprint.eq(fingerprint))
            .filter(issue::Column::MergedInto.is_null())
            .one(self.db())
            .await?)
    }

    /// Gives issue `issue_id` the fingerprint, title and culprit its events have now
    /// that their frames are named (its counts stay).
    pub async fn regroup_issue(
        &self,
        issue_id: i64,
        fingerprint: &str,
        title: &str,
        culprit: Option<&str>,
    ) -> Result<(), StoreError> {
        let (fingerprint, title, culprit) = (
            fingerprint.to_owned(),
            title.to_owned(),
            culprit.map(str::to_owned),
        );
        self.write(async |txn| {
            issue::Entity::update_many()
                .col_expr(
                    issue::Column::Fingerprint,
                    sea_orm::sea_query::Expr::value(fingerprint),
                )
                .col_expr(issue::Column::Title, sea_orm::sea_query::Expr::value(title))
                .col_expr(
                    issue::Column::Culprit,
                    sea_orm::sea_query::Expr::value(culprit),
                )
                .filter(issue::Column::Id.eq(issue_id))
                .exec(txn)
                .await?;
            Ok(())
        })
        .await
    }

    /// Keeps an uploaded chunk under its SHA-1 (`checksum`, checked by the caller);
    /// chunks older than an hour go at the same time.
    pub async fn add_upload_chunk(&self, checksum: &str, data: Vec<u8>) -> Result<(), StoreError> {
        let now = now_ms();
        let checksum = checksum.to_owned();
        self.write(async |txn| {
            upload_chunk::Entity::delete_many()
                .filter(upload_chunk::Column::CreatedAt.lt(now - CHUNK_TTL_MS))
                .exec(txn)
                .await?;
            let exists = upload_chunk::Entity::find_by_id(checksum.clone())
                .one(txn)
                .await?
                .is_some();
            if !exists {
                upload_chunk::ActiveModel {
                    checksum: Set(checksum),
                    data: Set(data),
                    created_at: Set(now),
                }
                .insert(txn)
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// Of `checksums`, those with no uploaded chunk.
    pub async fn missing_chunks(&self, checksums: &[String]) -> Result<Vec<String>, StoreError> {
        let present: Vec<String> = upload_chunk::Entity::find()
            .select_only()
            .column(upload_chunk::Column::Checksum)
            .filter(upload_chunk::Column::Checksum.is_in(checksums.iter().cloned()))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(checksums
            .iter()
            .filter(|c| !present.contains(c))
            .cloned()
            .collect())
    }

    /// The uploaded chunks `checksums`, joined in order (`None` when one is missing).
    pub async fn join_chunks(&self, checksums: &[String]) -> Result<Option<Vec<u8>>, StoreError> {
        let mut bytes = Vec::new();
        for checksum in checksums {
            match upload_chunk::Entity::find_by_id(checksum.clone())
                .one(self.db())
                .await?
            {
                Some(chunk) => bytes.extend_from_slice(&chunk.data),
                None => return Ok(None),
            }
        }
        Ok(Some(bytes))
    }

    /// Stores `file` for `project_id`, replacing one with the same debug id, unless the
    /// project's files would then take more than `limit` bytes
    /// ([`StoreError::AtLimit`]).
    pub async fn add_debug_file(
        &self,
        project_id: i64,
        file: NewDebugFile<'_>,
        limit: u64,
    ) -> Result<debug_file::Model, StoreError> {
        self.write(async |txn| {
            let same_id = debug_file::Entity::find()
                .filter(debug_file::Column::ProjectId.eq(project_id))
                .filter(debug_file::Column::DebugId.eq(file.debug_id))
                .all(txn)
                .await?;
            let existing = same_id.iter().find(|f| f.kind == file.kind).cloned();
            let other_kind = same_id.iter().find(|f| f.kind != file.kind);
            let used: Option<i64> = debug_file::Entity::find()
                .select_only()
                .column_as(debug_file::Column::Size.sum(), "used")
                .filter(debug_file::Column::ProjectId.eq(project_id))
                .into_tuple::<Option<i64>>()
                .one(txn)
                .await?
                .flatten();
            let replaced = existing.as_ref().map_or(0, |f| f.size);
            let after = u64::try_from(used.unwrap_or(0) - replaced).unwrap_or(0)
                + file.bytes.len() as u64;
            if after > limit {
                return Err(StoreError::AtLimit(format!(
                    "the project's debug files would take {after} bytes, more than its {limit} (MAYDAY_DEBUG_FILES_MAX_BYTES); delete some first"
                )));
            }
            if let Some(existing) = existing {
                debug_file::Entity::delete_by_id(existing.id).exec(txn).await?;
                debug_file_chunk::Entity::delete_many()
                    .filter(debug_file_chunk::Column::FileId.eq(existing.id))
                    .exec(txn)
                    .await?;
            }
            let row = debug_file::ActiveModel {
                id: NotSet,
                project_id: Set(project_id),
                debug_id: Set(file.debug_id.to_owned()),
                code_id: Set(file.code_id.map(str::to_owned)),
                name: Set(file.name.to_owned()),
                size: Set(i64::try_from(file.bytes.len()).unwrap_or(i64::MAX)),
                has_sources: Set(file.kind == DebugFileKind::Elf && other_kind.is_some()),
                kind: Set(file.kind),
                created_at: Set(now_ms()),
            }
            .insert(txn)
            .await?;
            if file.kind == DebugFileKind::Sources {
                set_has_sources(txn, project_id, file.debug_id, true).await?;
            }
            for (seq, chunk) in file.bytes.chunks(CHUNK).enumerate() {
                debug_file_chunk::ActiveModel {
                    file_id: Set(row.id),
                    seq: Set(i64::try_from(seq).unwrap_or(i64::MAX)),
                    data: Set(chunk.to_vec()),
                }
                .insert(txn)
                .await?;
            }
            Ok(row)
        })
        .await
    }

    /// A project's debug files, newest first.
    pub async fn debug_files(&self, project_id: i64) -> Result<Vec<debug_file::Model>, StoreError> {
        Ok(debug_file::Entity::find()
            .filter(debug_file::Column::ProjectId.eq(project_id))
            .order_by_desc(debug_file::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The file of `kind` of `project_id` with `debug_id`, if uploaded.
    pub async fn debug_file(
        &self,
        project_id: i64,
        debug_id: &str,
        kind: DebugFileKind,
    ) -> Result<Option<debug_file::Model>, StoreError> {
        Ok(debug_file::Entity::find()
            .filter(debug_file::Column::ProjectId.eq(project_id))
            .filter(debug_file::Column::DebugId.eq(debug_id.to_lowercase()))
            .filter(debug_file::Column::Kind.eq(kind))
            .one(self.db())
            .await?)
    }

    /// The bytes of debug file `file_id`.
    pub async fn debug_file_bytes(&self, file_id: i64) -> Result<Vec<u8>, StoreError> {
        let mut bytes = Vec::new();
        // One chunk at a time, so a large file never needs two copies at once.
        let mut seq = 0i64;
        loop {
            let chunk = debug_file_chunk::Entity::find_by_id((file_id, seq))
                .one(self.db())
                .await?;
            let Some(chunk) = chunk else { break };
            bytes.extend_from_slice(&chunk.data);
            seq += 1;
        }
        Ok(bytes)
    }

    /// Deletes debug file `file_id` of `project_id`; false when there is none.
    pub async fn remove_debug_file(
        &self,
        project_id: i64,
        file_id: i64,
    ) -> Result<bool, StoreError> {
        self.write(async |txn| {
            let found = debug_file::Entity::find_by_id(file_id)
                .filter(debug_file::Column::ProjectId.eq(project_id))
                .one(txn)
                .await?;
            let Some(found) = found else {
                return Ok(false);
            };
            debug_file_chunk::Entity::delete_many()
                .filter(debug_file_chunk::Column::FileId.eq(found.id))
                .exec(txn)
                .await?;
            debug_file::Entity::delete_by_id(found.id).exec(txn).await?;
            if found.kind == DebugFileKind::Sources {
                set_has_sources(txn, project_id, &found.debug_id, false).await?;
            }
            Ok(true)
        })
        .await
    }
}

/// Marks the ELF file of `debug_id` (if there is one) as having its sources or not.
async fn set_has_sources(
    txn: &super::database::WriteTxn,
    project_id: i64,
    debug_id: &str,
    has: bool,
) -> Result<(), StoreError> {
    debug_file::Entity::update_many()
        .col_expr(
            debug_file::Column::HasSources,
            sea_orm::sea_query::Expr::value(has),
        )
        .filter(debug_file::Column::ProjectId.eq(project_id))
        .filter(debug_file::Column::DebugId.eq(debug_id))
        .filter(debug_file::Column::Kind.eq(DebugFileKind::Elf))
        .exec(txn)
        .await?;
    Ok(())
}
