//! Storage: sea-orm entities, migrations and every query, one file per aggregate. SQL
//! lives here only.

mod accounts;
mod channels;
pub mod entities;
mod events;
mod ingest;
mod issues;
mod migration;
mod outbox;
mod projects;
mod retention;
mod sessions;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

pub use entities::{
    Channel, DeliveryStatus, EventLevel, IssueStatus, NotificationKind, UnknownName,
};
pub use events::{EventLinks, StoredEvent, decode_payload, encode_payload};
pub use ingest::{EventUser, IngestFacts, NewEvent, NotificationRule, SpikeSettings, Stored};
pub use issues::{Breakdown, IssueFilter, IssueSort};
pub use outbox::NotificationContext;
pub use projects::{KeyInfo, ProjectSummary, ProjectWithKeys};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The SQLite file's folder could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        /// The folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value is taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// Stored payload could not be read back.
    #[error("stored payload is unreadable: {0}")]
    Payload(String),
}

/// The database, migrated and ready.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite has one writer at a time, and a transaction that reads before it writes
    /// fails at once (not after `busy_timeout`) when another write committed meanwhile.
    /// Writers in this process take turns here instead (one turn per database file, shared
    /// by every `Store` on it); PostgreSQL needs no such lock.
    sqlite_writes: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`), creating an
    /// SQLite file's folder if needed, and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = sqlite_path(url) {
            if let Some(parent) = Path::new(&path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(if url.starts_with("sqlite") { 4 } else { 16 })
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let db = Database::connect(options).await?;
        if db.get_database_backend() == DbBackend::Sqlite {
            // WAL lets readers (the UI, the API) run while the writer commits.
            db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
            db.execute_unprepared("PRAGMA synchronous=NORMAL").await?;
            db.execute_unprepared("PRAGMA busy_timeout=5000").await?;
        }
        migration::Migrator::up(&db, None).await?;
        let sqlite_writes =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| sqlite_write_lock(url));
        Ok(Store { db, sqlite_writes })
    }

    /// Waits for this process's turn to write, on SQLite; a no-op on PostgreSQL.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.sqlite_writes {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// The connection, for this module's queries.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The raw connection, for tools such as the benchmark's seeding.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            DbBackend::MySql => "mysql",
        }
    }
}

/// The write turn shared by every `Store` of this process on the same SQLite file.
fn sqlite_write_lock(url: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::Mutex<Vec<(String, Arc<tokio::sync::Mutex<()>>)>> =
        std::sync::Mutex::new(Vec::new());
    let key = sqlite_path(url)
        .and_then(|path| std::fs::canonicalize(path).ok())
        .map_or_else(|| url.to_owned(), |path| path.display().to_string());
    let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, lock)) = locks.iter().find(|(k, _)| *k == key) {
        return lock.clone();
    }
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.push((key, lock.clone()));
    lock
}

/// The file path of an SQLite URL, if it is one (and not in-memory).
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

/// A unique constraint's error as a conflict on `what`; other errors as they are.
fn db_conflict(err: DbErr, what: &str) -> StoreError {
    let text = err.to_string().to_lowercase();
    if text.contains("unique") || text.contains("duplicate") {
        StoreError::Conflict(what.to_owned())
    } else {
        StoreError::Db(err)
    }
}

/// A new random public key or token: 32 hex digits per UUID.
pub fn random_hex(uuids: usize) -> String {
    (0..uuids)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://./mayday-data/mayday.db?mode=rwc").as_deref(),
            Some("./mayday-data/mayday.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@y/z"), None);
    }
}
