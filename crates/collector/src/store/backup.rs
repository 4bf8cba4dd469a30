//! Copies of an SQLite database: [`Store::backup`] makes a consistent one while the
//! collector serves and ingests (`VACUUM INTO`, from one read snapshot), [`restore`] puts
//! one in place while no collector serves the file, and [`Serving`] is how a serving
//! collector says so (a shared lock on the database file that `restore` cannot take).
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`); the commands say so.

use std::fs::File;
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

use super::error::StoreError;
use super::open::{self, Target};
use super::{Store, migration};

/// Why a backup or a restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL.
    #[error(
        "this collector stores in PostgreSQL, which is backed up with its own tools: \
         `pg_dump --format=custom --file=mayday.dump DATABASE_URL`, restored with \
         `pg_restore --clean --dbname=DATABASE_URL mayday.dump`"
    )]
    Postgres,
    /// An in-memory database has no file to copy.
    #[error("an in-memory database cannot be backed up or restored; use sqlite://PATH?mode=rwc")]
    InMemory,
    /// The backup's file exists already.
    #[error("{0} exists already; backups never overwrite a file: choose a new name")]
    Exists(PathBuf),
    /// A collector serves the database.
    #[error(
        "a collector is serving {0}; stop it first (systemctl stop mayday-collector, or \
         Ctrl-C), then restore"
    )]
    Serving(PathBuf),
    /// The file to restore is not a database this collector can use.
    #[error("{path} cannot be restored: {why}")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// Why not.
        why: String,
    },
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { what, path, source }
}

/// The SQLite file `url` names.
fn sqlite_file(url: &str) -> Result<PathBuf, BackupError> {
    match open::target(url)? {
        Target::SqliteFile { path, .. } => Ok(PathBuf::from(path)),
        Target::SqliteMemory => Err(BackupError::InMemory),
        Target::Postgres => Err(BackupError::Postgres),
    }
}

impl Store {
    /// Writes a consistent copy of the database to `to` (SQLite's `VACUUM INTO`, from one
    /// read snapshot: what was committed when it began, nothing half-written, while
    /// ingest goes on); returns its size in bytes. Never overwrites a file.
    pub async fn backup(&self, to: &Path) -> Result<u64, BackupError> {
        if self.db().get_database_backend() == DbBackend::Postgres {
            return Err(BackupError::Postgres);
        }
        if to.exists() {
            return Err(BackupError::Exists(to.to_owned()));
        }
        if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io("cannot create the folder of", to))?;
        }
        let path = to.to_string_lossy().into_owned();
        self.db()
            .execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [path.into()],
            ))
            .await
            .map_err(StoreError::from)?;
        Ok(std::fs::metadata(to).map_err(io("cannot read", to))?.len())
    }
}

/// A serving collector's hold on its SQLite file: while it lives, [`restore`] refuses.
#[derive(Debug)]
pub struct Serving {
    _file: Option<File>,
}

impl Serving {
    /// Takes the hold on the database `url` names (nothing to hold on PostgreSQL or in
    /// memory). Fails while a restore is under way.
    pub fn claim(url: &str) -> Result<Serving, BackupError> {
        let path = match sqlite_file(url) {
            Ok(path) => path,
            Err(BackupError::Postgres | BackupError::InMemory) => {
                return Ok(Serving { _file: None });
            }
            Err(other) => return Err(other),
        };
        let file = File::open(&path).map_err(io("cannot open", &path))?;
        // Shared: several collectors may serve one file; `restore` needs it alone.
        file.try_lock_shared()
            .map_err(|_| BackupError::Serving(path.clone()))?;
        Ok(Serving { _file: Some(file) })
    }
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The database file now in place.
    pub database: PathBuf,
    /// Where the database it replaced was kept, if there was one.
    pub previous: Option<PathBuf>,
}

/// Puts the backup `from` in place of the database `url` names, refusing while a
/// collector serves it. The backup is checked first (an SQLite database of this
/// collector, no newer than it, intact); the database it replaces is kept beside it as
/// `NAME.before-restore` (with its log). An older backup is upgraded when the collector
/// next starts, as any older database is.
pub fn restore(url: &str, from: &Path) -> Result<Restored, BackupError> {
    let database = sqlite_file(url)?;
    check_backup(from)?;
    let held = match File::open(&database) {
        Ok(file) => {
            if file.try_lock().is_err() {
                return Err(BackupError::Serving(database));
            }
            Some(file)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(io("cannot open", &database)(error)),
    };
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io("cannot create the folder of", &database))?;
    }
    let incoming = sibling(&database, ".restoring");
    std::fs::copy(from, &incoming).map_err(io("cannot copy the backup to", &incoming))?;
    File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot write", &incoming))?;
    let previous = if held.is_some() {
        let kept = sibling(&database, ".before-restore");
        for (from, to) in [
            (database.clone(), kept.clone()),
            (sibling(&database, "-wal"), sibling(&kept, "-wal")),
        ] {
            match std::fs::rename(&from, &to) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io("cannot keep the replaced database as", &to)(error)),
            }
        }
        let _ = std::fs::remove_file(sibling(&database, "-shm"));
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, &database)
        .map_err(io("cannot put the backup in place at", &database))?;
    drop(held);
    Ok(Restored { database, previous })
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Checks that `path` is an intact SQLite database of this collector, no newer than it.
fn check_backup(path: &Path) -> Result<(), BackupError> {
    let unusable = |why: String| BackupError::Unusable {
        path: path.to_owned(),
        why,
    };
    if !path.is_file() {
        return Err(unusable("there is no such file".into()));
    }
    let connection = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unusable(format!("it does not open as an SQLite database ({e})")))?;
    let check: String = connection
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| unusable(format!("it is not an SQLite database ({e})")))?;
    if check != "ok" {
        return Err(unusable(format!("it is damaged ({check})")));
    }
    let mut statement = connection
        .prepare("SELECT version FROM seaql_migrations")
        .map_err(|_| unusable("it is not a Mayday database (no migrations table)".into()))?;
    let applied: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| unusable(format!("its migrations cannot be read ({e})")))?;
    let known: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if let Some(unknown) = applied.iter().find(|name| !known.contains(name)) {
        return Err(unusable(format!(
            "it was written by a newer collector (migration {unknown}); restore it with that version"
        )));
    }
    Ok(())
}
