//! Source bundles, the format `sentry-cli debug-files upload --include-sources` writes
//! (and `mayday-collector debug-files upload --include-sources` too): the magic `SYSB`,
//! a format version (2, little-endian `u32`), then a ZIP archive holding
//! `manifest.json` (attributes such as `debug_id` and `object_name`, and per stored
//! file its original `path`) and the files under `files/`.
//!
//! A bundle carries the sources of one debug file, named by the same debug id; the
//! collector reads the lines around a frame from it.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, Write};

use serde::{Deserialize, Serialize};

/// The bytes a bundle starts with.
const MAGIC: &[u8; 4] = b"SYSB";
/// The bundle format version written.
const VERSION: u32 = 2;
/// The largest manifest read.
const MAX_MANIFEST: u64 = 16 << 20;
/// The largest source file read (or written), as `sentry-cli` caps them.
pub const MAX_SOURCE: u64 = 1 << 20;
/// Lines shown before and after a frame's line, as Sentry shows them.
pub const CONTEXT_LINES: usize = 5;

/// Why bytes are not a usable source bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Damaged ZIP archive or manifest.
    #[error("{name} is not a readable source bundle ({reason})")]
    Damaged { name: String, reason: String },
    /// No debug id: it could not be matched to its debug file.
    #[error(
        "{0} is a source bundle without a debug_id (make it with sentry-cli or mayday-collector debug-files upload --include-sources)"
    )]
    NoDebugId(String),
    /// No source file in it.
    #[error("{0} is a source bundle with no source files")]
    Empty(String),
    /// Writing failed.
    #[error("writing a source bundle failed: {0}")]
    Write(String),
}

/// Whether `bytes` are a source bundle (by their first bytes).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// What a bundle's `manifest.json` says (the fields read; others are kept by serde's
/// flattening only where the writer needs them).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    #[serde(default)]
    files: BTreeMap<String, FileInfo>,
    #[serde(flatten)]
    attributes: BTreeMap<String, serde_json::Value>,
}

/// One stored file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FileInfo {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    ty: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    path: String,
}

/// What a bundle says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    /// The debug id of the file whose sources it holds, lowercase.
    pub debug_id: String,
    /// The source files in it.
    pub files: usize,
}

fn read_manifest<R: Read + Seek>(
    name: &str,
    archive: &mut zip::ZipArchive<R>,
) -> Result<Manifest, BundleError> {
    let damaged = |reason: String| BundleError::Damaged {
        name: name.to_owned(),
        reason,
    };
    let entry = archive
        .by_name("manifest.json")
        .map_err(|e| damaged(format!("manifest.json: {e}")))?;
    serde_json::from_reader(entry.take(MAX_MANIFEST))
        .map_err(|e| damaged(format!("manifest.json: {e}")))
}

/// Reads `bytes` (named `name`, for messages) as a source bundle.
pub fn inspect(name: &str, bytes: &[u8]) -> Result<BundleInfo, BundleError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| BundleError::Damaged {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
    let manifest = read_manifest(name, &mut archive)?;
    let debug_id = manifest
        .attributes
        .get("debug_id")
        .and_then(serde_json::Value::as_str)
        .map(normalize_debug_id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| BundleError::NoDebugId(name.to_owned()))?;
    let files = manifest
        .files
        .values()
        .filter(|f| !f.path.is_empty())
        .count();
    if files == 0 {
        return Err(BundleError::Empty(name.to_owned()));
    }
    Ok(BundleInfo { debug_id, files })
}

/// A debug id as stored: lowercase, without the age Sentry appends for ELF (`-0`).
fn normalize_debug_id(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    match id.len() {
        38 if id.ends_with("-0") => id[..36].to_owned(),
        _ => id,
    }
}

/// The lines around a line of a source file: before, the line, after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub pre: Vec<String>,
    pub line: String,
    pub post: Vec<String>,
}

/// An open source bundle: its archive and where each original path is in it.
pub struct SourceBundle<R> {
    archive: zip::ZipArchive<R>,
    by_path: HashMap<String, String>,
}

impl<R> std::fmt::Debug for SourceBundle<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceBundle")
            .field("files", &self.by_path.len())
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek> SourceBundle<R> {
    /// Opens the bundle `reader` (named `name`, for messages).
    pub fn open(name: &str, reader: R) -> Result<SourceBundle<R>, BundleError> {
        let mut archive = zip::ZipArchive::new(reader).map_err(|e| BundleError::Damaged {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        let manifest = read_manifest(name, &mut archive)?;
        let by_path = manifest
            .files
            .into_iter()
            .filter(|(_, info)| !info.path.is_empty())
            .map(|(stored, info)| (info.path.replace('\\', "/"), stored))
            .collect();
        Ok(SourceBundle { archive, by_path })
    }

    /// The lines around line `line` (1-based) of the source file at `path`, when the
    /// bundle has it and it has that line.
    pub fn context(&mut self, path: &str, line: u64) -> Option<Context> {
        let stored = self.by_path.get(path)?;
        let mut text = String::new();
        self.archive
            .by_name(stored)
            .ok()?
            .take(MAX_SOURCE)
            .read_to_string(&mut text)
            .ok()?;
        let lines: Vec<&str> = text.lines().collect();
        let at = usize::try_from(line).ok()?.checked_sub(1)?;
        let current = lines.get(at)?;
        let owned = |s: &[&str]| s.iter().map(|l| (*l).to_owned()).collect();
        Some(Context {
            pre: owned(&lines[at.saturating_sub(CONTEXT_LINES)..at]),
            line: (*current).to_owned(),
            post: owned(&lines[at + 1..lines.len().min(at + 1 + CONTEXT_LINES)]),
        })
    }
}

/// Writes a bundle of `sources` (original path, text) for the debug file `debug_id`
/// named `object_name`, as `sentry-cli` writes them.
pub fn write<'a>(
    debug_id: &str,
    object_name: &str,
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<u8>, BundleError> {
    let failed = |e: &dyn std::fmt::Display| BundleError::Write(e.to_string());
    let mut out = std::io::Cursor::new(Vec::new());
    out.write_all(MAGIC).map_err(|e| failed(&e))?;
    out.write_all(&VERSION.to_le_bytes())
        .map_err(|e| failed(&e))?;
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut manifest = Manifest::default();
    for (path, text) in sources {
        let stored = format!("files/{}", stored_path(path));
        if manifest.files.contains_key(&stored) {
            continue;
        }
        zip.start_file(stored.as_str(), options)
            .map_err(|e| failed(&e))?;
        zip.write_all(text.as_bytes()).map_err(|e| failed(&e))?;
        manifest.files.insert(
            stored,
            FileInfo {
                ty: Some("source".into()),
                path: path.to_owned(),
            },
        );
    }
    for (key, value) in [
        ("debug_id", debug_id),
        ("object_name", object_name),
        ("arch", "x86_64"),
    ] {
        manifest.attributes.insert(key.into(), value.into());
    }
    zip.start_file("manifest.json", options)
        .map_err(|e| failed(&e))?;
    serde_json::to_writer(&mut zip, &manifest).map_err(|e| failed(&e))?;
    Ok(zip.finish().map_err(|e| failed(&e))?.into_inner())
}

/// The path a source file is stored at inside the bundle: its original path with
/// separators (and a drive's colon) made single slashes, no leading one.
fn stored_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut last_sep = true;
    for c in path.chars() {
        if c == '/' || c == '\\' || c == ':' {
            if !last_sep {
                out.push('/');
            }
            last_sep = true;
        } else {
            out.push(c);
            last_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_bundle_reads_back_its_lines() {
        let source = (1..=20).map(|n| format!("line {n}\n")).collect::<String>();
        let bytes = write(
            "b7c1a2d3-0000-1111-2222-333344445555",
            "app",
            [("/src/app/src/lib.rs", source.as_str())],
        )
        .unwrap();
        assert!(is_bundle(&bytes));
        let info = inspect("app.src.zip", &bytes).unwrap();
        assert_eq!(info.debug_id, "b7c1a2d3-0000-1111-2222-333344445555");
        assert_eq!(info.files, 1);
        let mut bundle = SourceBundle::open("app", std::io::Cursor::new(&bytes[..])).unwrap();
        let context = bundle.context("/src/app/src/lib.rs", 3).unwrap();
        assert_eq!(context.pre, ["line 1", "line 2"]);
        assert_eq!(context.line, "line 3");
        assert_eq!(context.post.len(), CONTEXT_LINES);
        assert_eq!(bundle.context("/src/app/src/lib.rs", 21), None);
        assert_eq!(bundle.context("/elsewhere.rs", 1), None);
    }

    #[test]
    fn bad_bundles_are_named() {
        let error = inspect("x.zip", b"SYSB\x02\0\0\0garbage").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("x.zip is not a readable source bundle")
        );
        let empty = write("b7c1a2d3-0000-1111-2222-333344445555", "app", []).unwrap();
        assert!(matches!(inspect("e", &empty), Err(BundleError::Empty(_))));
        assert_eq!(stored_path("C:\\src\\\\lib.rs"), "C/src/lib.rs");
        assert_eq!(
            normalize_debug_id("B7C1A2D3-0000-1111-2222-333344445555-0").len(),
            36
        );
    }
}
