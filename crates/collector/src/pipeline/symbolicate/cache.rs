//! The debug files and source bundles symbolication reads, written once from the
//! database to a cache folder and opened from there: ELF files memory-mapped by
//! `addr2line` (the operating system keeps what is used in memory), bundles as ZIP
//! archives read a file at a time. At most [`OPEN`] are open at once (the least
//! recently used closed first) and [`CACHED`] kept in the folder.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use addr2line::Loader;

use crate::debug_files::source_bundle::SourceBundle;
use crate::store::entities::DebugFileKind;
use crate::store::{Store, StoreError};

/// Files open at once.
const OPEN: usize = 8;
/// Files kept in the cache folder (the least recently written go first; one still open
/// stays readable until closed).
const CACHED: usize = 32;

/// An open ELF debug file.
pub(super) type SharedLoader = Arc<Mutex<Loader>>;
/// An open source bundle.
pub(super) type SharedBundle = Arc<Mutex<SourceBundle<File>>>;

/// One open file.
#[derive(Clone)]
enum Opened {
    Elf(SharedLoader),
    Sources(SharedBundle),
}

/// Project, debug id, kind.
type Key = (i64, String, DebugFileKind);

/// The open files, most recently used last, and the folder they are written to.
pub(super) struct Cache {
    dir: PathBuf,
    open: Mutex<Vec<(Key, Opened)>>,
}

impl Cache {
    pub(super) fn new(dir: PathBuf) -> Cache {
        Cache {
            dir,
            open: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The open ELF debug file `debug_id` of `project_id`; `None` when not uploaded.
    pub(super) async fn loader(
        &self,
        store: &Store,
        project_id: i64,
        debug_id: &str,
    ) -> Result<Option<SharedLoader>, StoreError> {
        let opened = self
            .get(store, project_id, debug_id, DebugFileKind::Elf)
            .await?;
        Ok(match opened {
            Some(Opened::Elf(loader)) => Some(loader),
            _ => None,
        })
    }

    /// The open source bundle of `debug_id` of `project_id`; `None` when not uploaded.
    pub(super) async fn bundle(
        &self,
        store: &Store,
        project_id: i64,
        debug_id: &str,
    ) -> Result<Option<SharedBundle>, StoreError> {
        let opened = self
            .get(store, project_id, debug_id, DebugFileKind::Sources)
            .await?;
        Ok(match opened {
            Some(Opened::Sources(bundle)) => Some(bundle),
            _ => None,
        })
    }

    async fn get(
        &self,
        store: &Store,
        project_id: i64,
        debug_id: &str,
        kind: DebugFileKind,
    ) -> Result<Option<Opened>, StoreError> {
        let key = (project_id, debug_id.to_lowercase(), kind);
        {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = open.iter().position(|(k, _)| *k == key) {
                let entry = open.remove(at);
                let opened = entry.1.clone();
                open.push(entry);
                return Ok(Some(opened));
            }
        }
        let Some(path) = self.written(store, project_id, debug_id, kind).await? else {
            return Ok(None);
        };
        let opened = tokio::task::spawn_blocking(move || match kind {
            DebugFileKind::Elf => Loader::new(&path)
                .ok()
                .map(|l| Opened::Elf(Arc::new(Mutex::new(l)))),
            DebugFileKind::Sources => {
                let file = File::open(&path).ok()?;
                let bundle = SourceBundle::open(&path.display().to_string(), file).ok()?;
                Some(Opened::Sources(Arc::new(Mutex::new(bundle))))
            }
        })
        .await;
        let Ok(Some(opened)) = opened else {
            tracing::warn!(debug_id, %kind, "a debug file does not open");
            return Ok(None);
        };
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= OPEN {
            open.remove(0);
        }
        open.push((key, opened.clone()));
        Ok(Some(opened))
    }

    /// The cache folder's copy of the file, written from the database when it is not
    /// there yet; `None` when the file is not uploaded (or cannot be written).
    async fn written(
        &self,
        store: &Store,
        project_id: i64,
        debug_id: &str,
        kind: DebugFileKind,
    ) -> Result<Option<PathBuf>, StoreError> {
        let Some(file) = store.debug_file(project_id, debug_id, kind).await? else {
            return Ok(None);
        };
        let extension = match kind {
            DebugFileKind::Elf => "debug",
            DebugFileKind::Sources => "src",
        };
        let path = self.dir.join(format!(
            "{project_id}-{}-{}.{extension}",
            file.debug_id, file.id
        ));
        if path.exists() {
            return Ok(Some(path));
        }
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
        Ok(Some(path))
    }
}

/// Removes the oldest debug files of the cache folder `dir` beyond [`CACHED`].
fn prune(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "debug" || x == "src")
        })
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
