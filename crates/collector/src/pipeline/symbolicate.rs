//! Naming the frames a stripped binary could not: an event's frames that carry only an
//! address are looked up in the debug file of their image (`debug_meta`), uploaded to
//! the project, before the event is grouped, so a crash groups the same from a stripped
//! and an unstripped build.
//!
//! Lookups use `addr2line` (DWARF lines and inlined functions; the ELF symbol table for
//! full names where line tables name functions by their last segment) over the debug
//! file; the symbols found go through the reporter's own `frames::process` (names,
//! in-app by the app's source folder, trimming), so the frames are what the reporter
//! would have sent from an unstripped build. The debug file is written once from the
//! database to a cache folder and memory-mapped: the operating system keeps what is used
//! in memory, at most [`LOADED`] files are open at once and [`CACHED`] kept in the folder.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use addr2line::Loader;
use mayday_protocol::{DebugImage, Event, Frame, parse_addr};
use mayday_reporter::frames::{self, AppSource, InAppRules, RawSymbol};

use crate::store::{Store, StoreError};

/// Debug files open at once.
const LOADED: usize = 8;
/// Debug files kept in the cache folder (the least recently written go first; one still
/// open stays readable until closed).
const CACHED: usize = 32;

/// One frame of a stack to name: as it is, its run-time address, and the debug file
/// and address (in the file's own terms) to look it up at, when there is one.
type Ask = (Frame, u64, Option<(Arc<Mutex<Loader>>, u64)>);

/// One open debug file.
struct Open {
    key: (i64, String),
    loader: Arc<Mutex<Loader>>,
}

/// The open debug files, most recently used last, and where they are written.
pub struct Symbolicator {
    dir: PathBuf,
    open: Mutex<Vec<Open>>,
}

impl std::fmt::Debug for Symbolicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbolicator")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// What symbolicating an event did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Frames named.
    pub resolved: usize,
    /// Debug ids of images with frames to name whose file is not uploaded.
    pub missing: Vec<String>,
}

impl Symbolicator {
    /// A symbolicator writing debug files under `dir`.
    pub fn new(dir: PathBuf) -> Symbolicator {
        Symbolicator {
            dir,
            open: Mutex::new(Vec::new()),
        }
    }

    /// Names the unnamed frames of `event` from `project_id`'s debug files; returns how
    /// many, and which files were missing.
    pub async fn symbolicate(
        &self,
        store: &Store,
        project_id: i64,
        event: &mut Event,
    ) -> Result<Outcome, StoreError> {
        let mut outcome = Outcome::default();
        // Most events name every frame: nothing to copy or look up for them.
        let images: &[DebugImage] = event.debug_meta.as_ref().map_or(&[], |m| &m.images);
        let any_unnamed = event
            .exceptions()
            .iter()
            .filter_map(|e| e.stacktrace.as_ref())
            .flat_map(|s| s.frames.iter())
            .any(|frame| unnamed(frame, images).is_some());
        if !any_unnamed {
            return Ok(outcome);
        }
        let images: Vec<DebugImage> = images.to_vec();
        let app = App::of(event);
        let mut loaders: HashMap<String, Option<Arc<Mutex<Loader>>>> = HashMap::new();
        let stacks = event
            .exception
            .iter_mut()
            .flat_map(|e| e.values.iter_mut())
            .filter_map(|e| e.stacktrace.as_mut());
        for stack in stacks {
            // What to look up, innermost first: each frame as it is, or its debug file
            // and the address in the file's own terms.
            let mut asks: Vec<Ask> = Vec::new();
            for frame in stack.frames.iter().rev() {
                let ip = frame
                    .instruction_addr
                    .as_deref()
                    .and_then(parse_addr)
                    .unwrap_or(0);
                let mut ask = None;
                if let Some((image, address)) = unnamed(frame, &images)
                    && let Some(debug_id) = image.debug_id.clone()
                {
                    if !loaders.contains_key(&debug_id) {
                        let loader = self.loader(store, project_id, &debug_id).await?;
                        if loader.is_none() && !outcome.missing.contains(&debug_id) {
                            outcome.missing.push(debug_id.clone());
                        }
                        loaders.insert(debug_id.clone(), loader);
                    }
                    if let Some(Some(loader)) = loaders.get(&debug_id) {
                        let base = image
                            .image_addr
                            .as_deref()
                            .and_then(parse_addr)
                            .unwrap_or(0);
                        let vmaddr = image
                            .image_vmaddr
                            .as_deref()
                            .and_then(parse_addr)
                            .unwrap_or(0);
                        // A return address points after the call: look up the call.
                        let probe = address
                            .wrapping_sub(base)
                            .wrapping_add(vmaddr)
                            .saturating_sub(1);
                        ask = Some((loader.clone(), probe));
                    }
                }
                asks.push((frame.clone(), ip, ask));
            }
            if asks.iter().all(|(_, _, ask)| ask.is_none()) {
                continue;
            }
            // The stack as the reporter's resolution gives it, innermost first: frames it
            // named as they are, the unnamed ones from their debug file; all lookups of
            // the stack in one blocking task.
            let (raw, named) = tokio::task::spawn_blocking(move || {
                let mut raw: Vec<RawSymbol> = Vec::with_capacity(asks.len());
                let mut named = 0;
                for (frame, ip, ask) in asks {
                    let found = ask.map_or_else(Vec::new, |(loader, probe)| {
                        let loader = loader.lock().unwrap_or_else(|e| e.into_inner());
                        lookup(&loader, probe, ip)
                    });
                    if found.is_empty() {
                        raw.push(as_raw(&frame, ip));
                    } else {
                        named += 1;
                        raw.extend(found);
                    }
                }
                (raw, named)
            })
            .await
            .unwrap_or_default();
            if named == 0 {
                continue;
            }
            outcome.resolved += named;
            let source = AppSource {
                krate: &app.krate,
                manifest_dir: &app.manifest_dir,
                reporter_dir: &app.reporter_dir,
            };
            let mut processed = frames::process(&raw, &source, &InAppRules::default());
            for frame in &mut processed.frames {
                frame
                    .other
                    .insert("symbolicated".into(), serde_json::Value::Bool(true));
            }
            *stack = processed;
        }
        Ok(outcome)
    }

    /// The open debug file `debug_id` of `project_id`, opening it when it was uploaded;
    /// `None` when it was not.
    async fn loader(
        &self,
        store: &Store,
        project_id: i64,
        debug_id: &str,
    ) -> Result<Option<Arc<Mutex<Loader>>>, StoreError> {
        let key = (project_id, debug_id.to_lowercase());
        {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = open.iter().position(|o| o.key == key) {
                let entry = open.remove(at);
                let loader = entry.loader.clone();
                open.push(entry);
                return Ok(Some(loader));
            }
        }
        let Some(file) = store.debug_file(project_id, debug_id).await? else {
            return Ok(None);
        };
        let path = self
            .dir
            .join(format!("{project_id}-{}-{}.debug", file.debug_id, file.id));
        if !path.exists() {
            let bytes = store.debug_file_bytes(file.id).await?;
            let dir = self.dir.clone();
            let target = path.clone();
            let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::create_dir_all(&dir)?;
                // Written aside, then renamed: another collector may be writing it too.
                let partial = target.with_extension(format!("partial-{}", std::process::id()));
                std::fs::write(&partial, &bytes)?;
                std::fs::rename(&partial, &target)?;
                prune(&dir);
                Ok(())
            })
            .await;
            if !matches!(written, Ok(Ok(()))) {
                tracing::warn!(path = %path.display(), "writing a debug file to the cache failed");
                return Ok(None);
            }
        }
        let opened = tokio::task::spawn_blocking(move || Loader::new(&path).ok()).await;
        let Ok(Some(loader)) = opened else {
            tracing::warn!(debug_id, "a debug file does not open");
            return Ok(None);
        };
        let loader = Arc::new(Mutex::new(loader));
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= LOADED {
            open.remove(0);
        }
        open.push(Open {
            key,
            loader: loader.clone(),
        });
        Ok(Some(loader))
    }
}

/// Removes the oldest debug files of the cache folder `dir` beyond [`CACHED`].
fn prune(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "debug"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= CACHED {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - CACHED] {
        let _ = std::fs::remove_file(path);
    }
}

/// The image and address of a frame that has an address and no name.
fn unnamed<'a>(frame: &Frame, images: &'a [DebugImage]) -> Option<(&'a DebugImage, u64)> {
    if frame.function.is_some() || frame.filename.is_some() {
        return None;
    }
    let address = frame.instruction_addr.as_deref().and_then(parse_addr)?;
    let image = images.iter().find(|image| {
        let start = image.image_addr.as_deref().and_then(parse_addr);
        match (&frame.image_addr, start) {
            (Some(given), Some(start)) => parse_addr(given) == Some(start),
            (None, Some(start)) => {
                let size = image.image_size.unwrap_or(0);
                start <= address && address < start.saturating_add(size)
            }
            _ => false,
        }
    })?;
    Some((image, address))
}

/// The symbols at `probe` (an address in the file's own terms), innermost first, as
/// the reporter's resolution gives them for a frame at run-time address `ip`: the
/// functions inlined there, then the function itself (its full name from the symbol
/// table where the line tables name it by its last segment).
fn lookup(loader: &Loader, probe: u64, ip: u64) -> Vec<RawSymbol> {
    let mut found = Vec::new();
    if let Ok(mut iter) = loader.find_frames(probe) {
        while let Ok(Some(frame)) = iter.next() {
            let name = frame
                .function
                .as_ref()
                .and_then(|f| f.raw_name().ok())
                .map(|raw| demangle(&raw));
            let location = frame.location.as_ref();
            found.push(RawSymbol {
                ip,
                inlined: true,
                name,
                full_name: None,
                file: location.and_then(|l| l.file).map(str::to_owned),
                line: location.and_then(|l| l.line),
                column: location.and_then(|l| l.column),
            });
        }
    }
    let full = loader.find_symbol(probe).map(demangle);
    match found.last_mut() {
        Some(outermost) => {
            outermost.inlined = false;
            if outermost.name.as_deref().is_none_or(|n| !n.contains("::")) {
                outermost.full_name = full;
            }
        }
        None if full.is_some() => found.push(RawSymbol {
            ip,
            name: full,
            ..Default::default()
        }),
        None => {}
    }
    found
}

/// A frame the reporter named, back in the form its resolution gave.
fn as_raw(frame: &Frame, ip: u64) -> RawSymbol {
    RawSymbol {
        ip,
        inlined: false,
        name: frame.function.clone(),
        full_name: None,
        file: frame.abs_path.clone().or_else(|| frame.filename.clone()),
        line: frame.lineno.and_then(|l| u32::try_from(l).ok()),
        column: frame.colno.and_then(|c| u32::try_from(c).ok()),
    }
}

/// The readable form of a (possibly) mangled name, without the hash, as the reporter
/// writes them.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => name.to_owned(),
    }
}

/// What the reporter said of the app (`debug_meta.mayday_app`): its crate and source
/// folders, which decide which frames are the app's own.
struct App {
    krate: String,
    manifest_dir: String,
    reporter_dir: String,
}

impl App {
    fn of(event: &Event) -> App {
        let said = event
            .debug_meta
            .as_ref()
            .and_then(|m| m.other.get("mayday_app"));
        let text = |key: &str| {
            said.and_then(|s| s[key].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        App {
            krate: text("crate"),
            manifest_dir: text("manifest_dir"),
            reporter_dir: text("reporter_dir"),
        }
    }
}

/// Issues looked at after an upload (the most recently seen), and events named in each.
const AFTER_UPLOAD_ISSUES: u64 = 500;
const AFTER_UPLOAD_EVENTS: u64 = 1000;

/// Whether `event` was stored without the debug file `debug_id`.
fn lacks(event: &Event, debug_id: &str) -> bool {
    event
        .other
        .get("mayday_missing_debug_files")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(debug_id)))
}

/// After debug file `debug_id` was uploaded to `project_id`: the events that arrived
/// without it (in the project's 500 most recently seen issues, 1,000 events each) are
/// named and stored again, and each such issue takes the identity its named events
/// have: merged into the issue that already has it (counts kept exact, as a merge
/// keeps them), else given its fingerprint, title and culprit. Returns the events
/// named. Runs in the background after an upload.
pub async fn after_upload(
    store: &Store,
    symbolicator: &Symbolicator,
    project_id: i64,
    debug_id: &str,
) -> Result<usize, StoreError> {
    let filter = crate::store::IssueFilter {
        limit: AFTER_UPLOAD_ISSUES,
        ..Default::default()
    };
    let mut named = 0;
    for issue in store.list_issues(project_id, &filter).await? {
        let newest = store.issue_events(issue.id, 0, 1).await?;
        if !newest.first().is_some_and(|e| lacks(&e.event, debug_id)) {
            continue;
        }
        let mut identity = None;
        for stored in store.issue_events(issue.id, 0, AFTER_UPLOAD_EVENTS).await? {
            let mut event = stored.event;
            if !lacks(&event, debug_id) {
                continue;
            }
            let outcome = symbolicator
                .symbolicate(store, project_id, &mut event)
                .await?;
            if outcome.resolved == 0 {
                continue;
            }
            if outcome.missing.is_empty() {
                event.other.remove("mayday_missing_debug_files");
            } else {
                event.other.insert(
                    "mayday_missing_debug_files".into(),
                    serde_json::json!(outcome.missing),
                );
            }
            identity.get_or_insert_with(|| crate::grouping::group(&event));
            let payload = serde_json::to_vec(&event)
                .map_err(|e| e.to_string())
                .and_then(|json| crate::store::encode_payload(&json).map_err(|e| e.to_string()))
                .map_err(StoreError::Payload)?;
            store.replace_event_payload(stored.row.id, payload).await?;
            named += 1;
        }
        let Some(identity) = identity else { continue };
        if identity.fingerprint == issue.fingerprint {
            continue;
        }
        match store
            .issue_by_fingerprint(project_id, &identity.fingerprint)
            .await?
        {
            Some(target) if target.id != issue.id => {
                store
                    .merge_issues(project_id, target.id, &[issue.id])
                    .await?;
                crate::audit::record(
                    store,
                    crate::audit::Actor::Collector,
                    project_id,
                    crate::store::AuditAction::IssuesMerged,
                    format!(
                        "issue {} into issue {}: their frames named by debug file {debug_id}",
                        issue.id, target.id
                    ),
                )
                .await?;
            }
            _ => {
                store
                    .regroup_issue(
                        issue.id,
                        &identity.fingerprint,
                        &identity.title,
                        identity.culprit.as_deref(),
                    )
                    .await?;
            }
        }
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_folder_keeps_the_newest_files() {
        let dir = std::env::temp_dir().join(format!("mayday-prune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in 0..CACHED + 3 {
            let path = dir.join(format!("{n:03}.debug"));
            std::fs::write(&path, b"x").unwrap();
            let at = std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1_000 + n as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), b"kept").unwrap();
        prune(&dir);
        let left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), CACHED + 1, "{left:?}");
        assert!(!left.contains(&"000.debug".to_owned()));
        assert!(left.contains(&"notes.txt".to_owned()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
