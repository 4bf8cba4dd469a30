//! Debug files, uploaded one way from the API, the command line and `sentry-cli`: ELF
//! files named by the debug id Sentry derives from the GNU build id, and source
//! bundles ([`source_bundle`]) naming the debug id whose sources they hold; refused
//! with a reason when they cannot help (not ELF, no build id, neither debug info nor a
//! symbol table, a bundle without debug id or files), capped per project, recorded in
//! the audit log.

pub mod source_bundle;

use std::collections::BTreeSet;
use std::path::Path;

use object::{Object, ObjectSection};

use crate::audit::{self, Actor};
use crate::store::entities::{DebugFileKind, debug_file};
use crate::store::{AuditAction, NewDebugFile, Store, StoreError};
pub use source_bundle::BundleError;

/// What an uploaded file says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugFileInfo {
    /// An ELF file or a source bundle.
    pub kind: DebugFileKind,
    /// Sentry's debug id, lowercase UUID form.
    pub debug_id: String,
    /// The GNU build id, hex (ELF files).
    pub code_id: Option<String>,
    /// Whether it has DWARF line tables (else only the symbol table: names, no lines);
    /// false for bundles.
    pub has_lines: bool,
}

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DebugFileError {
    /// Not an ELF file (or a truncated one).
    #[error(
        "{0} is not an ELF file (upload the unstripped binary or the file objcopy --only-keep-debug writes)"
    )]
    NotElf(String),
    /// No GNU build id: frames could never be matched to it.
    #[error("{0} has no GNU build id (link with -Wl,--build-id, the default for Rust on Linux)")]
    NoBuildId(String),
    /// Nothing to symbolicate with.
    #[error(
        "{0} has neither debug info nor a symbol table (it was stripped: upload the file objcopy --only-keep-debug wrote before stripping)"
    )]
    NoDebugInfo(String),
    /// A source bundle that cannot be used.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The store refused it (over the project's limit) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `bytes` (named `name`, for messages) as a debug file or a source bundle.
pub fn inspect(name: &str, bytes: &[u8]) -> Result<DebugFileInfo, DebugFileError> {
    if source_bundle::is_bundle(bytes) {
        let bundle = source_bundle::inspect(name, bytes)?;
        return Ok(DebugFileInfo {
            kind: DebugFileKind::Sources,
            debug_id: bundle.debug_id,
            code_id: None,
            has_lines: false,
        });
    }
    let file = object::File::parse(bytes).map_err(|_| DebugFileError::NotElf(name.to_owned()))?;
    if file.format() != object::BinaryFormat::Elf {
        return Err(DebugFileError::NotElf(name.to_owned()));
    }
    let build_id = file
        .build_id()
        .ok()
        .flatten()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| DebugFileError::NoBuildId(name.to_owned()))?;
    let has_section = |wanted: &str| {
        file.section_by_name(wanted)
            .is_some_and(|s| s.size() > 0 && s.kind() != object::SectionKind::UninitializedData)
    };
    let has_lines = has_section(".debug_line");
    let has_symbols = file.symbols().next().is_some();
    if !has_lines && !has_symbols {
        return Err(DebugFileError::NoDebugInfo(name.to_owned()));
    }
    Ok(DebugFileInfo {
        kind: DebugFileKind::Elf,
        debug_id: mayday_protocol::debug_id_of_build_id(build_id),
        code_id: Some(build_id.iter().map(|b| format!("{b:02x}")).collect()),
        has_lines,
    })
}

/// The source bundle of the ELF debug file at `path` (with `info` from [`inspect`]):
/// every source file its line tables name that can be read here as UTF-8 (up to
/// [`source_bundle::MAX_SOURCE`] bytes each), the standard library's and
/// dependencies' included when present, as `sentry-cli --include-sources` bundles
/// them. `None` when no source file could be read.
pub fn bundle_sources(
    path: &Path,
    info: &DebugFileInfo,
) -> Result<Option<Vec<u8>>, DebugFileError> {
    let name = path.display().to_string();
    let loader = addr2line::Loader::new(path).map_err(|_| DebugFileError::NotElf(name.clone()))?;
    let mut paths = BTreeSet::new();
    if let Ok(locations) = loader.find_location_range(0, u64::MAX) {
        for (_, _, location) in locations {
            if let Some(file) = location.file {
                paths.insert(file.to_owned());
            }
        }
    }
    let sources: Vec<(String, String)> = paths
        .into_iter()
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            if !meta.is_file() || meta.len() > source_bundle::MAX_SOURCE {
                return None;
            }
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path, text))
        })
        .collect();
    if sources.is_empty() {
        return Ok(None);
    }
    let object_name = path
        .file_name()
        .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
    let bytes = source_bundle::write(
        &info.debug_id,
        &object_name,
        sources.iter().map(|(p, t)| (p.as_str(), t.as_str())),
    )?;
    Ok(Some(bytes))
}

/// Checks and stores `bytes` as `name` for `project_id`, within `limit` bytes for the
/// project's files; records it.
pub async fn upload<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    name: &str,
    bytes: &[u8],
    limit: u64,
) -> Result<debug_file::Model, DebugFileError> {
    let name = name.trim();
    let name = if name.is_empty() { "debug file" } else { name };
    let name: String = name.chars().take(200).collect();
    let info = inspect(&name, bytes)?;
    let file = store
        .add_debug_file(
            project_id,
            NewDebugFile {
                kind: info.kind,
                debug_id: &info.debug_id,
                code_id: info.code_id.as_deref(),
                name: &name,
                bytes,
            },
            limit,
        )
        .await?;
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::DebugFileUploaded,
        format!(
            "{} ({} {}, {} bytes)",
            file.name, file.kind, file.debug_id, file.size
        ),
    )
    .await?;
    Ok(file)
}

/// Deletes debug file `file_id` of `project_id`; false when there is none.
pub async fn remove<'a>(
    store: &Store,
    actor: impl Into<Actor<'a>>,
    project_id: i64,
    file_id: i64,
) -> Result<bool, StoreError> {
    if !store.remove_debug_file(project_id, file_id).await? {
        return Ok(false);
    }
    audit::record(
        store,
        actor,
        project_id,
        AuditAction::DebugFileRemoved,
        format!("debug file {file_id}"),
    )
    .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_binary_is_a_debug_file_and_text_is_not() {
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&exe).unwrap();
        let info = inspect("test", &bytes).expect("an ELF with a build id");
        assert_eq!(info.debug_id.len(), 36);
        assert!(info.has_lines, "dev builds have line tables");
        let error = inspect("notes.txt", b"hello").unwrap_err().to_string();
        assert!(error.contains("notes.txt is not an ELF file"), "{error}");
        let truncated = inspect("cut", &bytes[..4096]).unwrap_err().to_string();
        assert!(truncated.contains("cut"), "{truncated}");
    }
}
