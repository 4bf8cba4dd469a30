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

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use entities::{
    Channel, DeliveryStatus, EventLevel, IssueStatus, NotificationKind, UnknownName,
};
pub use events::{EventLinks, StoredEvent, decode_payload, encode_payload};
pub use ingest::{EventUser, IngestFacts, NewEvent, NotificationRule, SpikeSettings, Stored};
pub use issues::{Breakdown, IssueFilter, IssueSort};
pub use outbox::NotificationContext;
pub use projects::{KEY_CACHE_TTL, KeyInfo, ProjectSummary, ProjectWithKeys};

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
    /// Readers' pool (and, on PostgreSQL, writers' too).
    db: DatabaseConnection,
    /// SQLite's write path: one connection, used in turns by every writer of this
    /// process (see [`Store::write`]).
    sqlite_writer: Option<SqliteWriter>,
    /// Recent key lookups (see [`Store::find_key`]).
    keys: Arc<projects::KeyCache>,
}

/// SQLite allows one writer at a time. Writers of this process take turns on one
/// connection (the turn shared by every `Store` on the same file), each in a
/// `BEGIN IMMEDIATE` transaction: the write lock is taken first, waiting up to
/// `busy_timeout` for writers of other processes (the CLI while the server runs),
/// instead of failing at once the way a transaction that read first and writes later
/// does when another write committed in between.
#[derive(Debug, Clone)]
struct SqliteWriter {
    connection: DatabaseConnection,
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// How long a statement may run, and wait for a lock, on PostgreSQL.
const POSTGRES_STATEMENT_TIMEOUT: &str = "30s";
const POSTGRES_LOCK_TIMEOUT: &str = "10s";

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
        let sqlite = url.starts_with("sqlite");
        let db = Database::connect(options(url, if sqlite { 4 } else { 16 })).await?;
        migration::Migrator::up(&db, None).await?;
        let sqlite_writer = if sqlite {
            Some(SqliteWriter {
                connection: Database::connect(options(url, 1)).await?,
                turn: sqlite_write_lock(url),
            })
        } else {
            None
        };
        Ok(Store {
            db,
            sqlite_writer,
            keys: Arc::default(),
        })
    }

    /// Runs `work` in a write transaction and commits it; rolls back when it fails.
    ///
    /// Every write of the collector comes through here: on SQLite a `BEGIN IMMEDIATE`
    /// transaction on the one write connection, in turns (see [`SqliteWriter`]); on
    /// PostgreSQL an ordinary transaction (concurrent writers are fine there).
    pub(crate) async fn write<T>(
        &self,
        work: impl AsyncFnOnce(&WriteTxn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.sqlite_writer {
            Some(writer) => {
                let _turn = writer.turn.lock().await;
                let connection = &writer.connection;
                if let Err(error) = connection.execute_unprepared("BEGIN IMMEDIATE").await {
                    // A transaction left open by a cancelled write: end it, then start.
                    let _ = connection.execute_unprepared("ROLLBACK").await;
                    connection
                        .execute_unprepared("BEGIN IMMEDIATE")
                        .await
                        .map_err(|_| error)?;
                }
                match work(&WriteTxn::Sqlite(connection)).await {
                    Ok(value) => {
                        connection.execute_unprepared("COMMIT").await?;
                        Ok(value)
                    }
                    Err(error) => {
                        let _ = connection.execute_unprepared("ROLLBACK").await;
                        Err(error)
                    }
                }
            }
            None => {
                let txn = WriteTxn::Postgres(self.db.begin().await?);
                let value = work(&txn).await?;
                if let WriteTxn::Postgres(txn) = txn {
                    txn.commit().await?;
                }
                Ok(value)
            }
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

    /// Calls `count` for every statement a write runs (tests count statements per batch).
    pub fn on_write_statement(&mut self, count: impl Fn() + Send + Sync + 'static) {
        let count = Arc::new(count);
        let callback = move |_: &sea_orm::metric::Info<'_>| count();
        match &mut self.sqlite_writer {
            Some(writer) => writer.connection.set_metric_callback(callback),
            None => self.db.set_metric_callback(callback),
        }
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

/// Connection options for `url`: on SQLite, WAL (readers run while the writer commits),
/// `synchronous=NORMAL` and a busy timeout on every connection; on PostgreSQL, statement
/// and lock timeouts, so that nothing waits forever.
fn options(url: &str, connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(connections)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
        })
        .map_sqlx_postgres_opts(|opts| {
            opts.options([
                ("statement_timeout", POSTGRES_STATEMENT_TIMEOUT),
                ("lock_timeout", POSTGRES_LOCK_TIMEOUT),
            ])
        });
    options
}

/// A write transaction, whichever the database (see [`Store::write`]).
pub(crate) enum WriteTxn<'a> {
    /// SQLite's write connection, inside `BEGIN IMMEDIATE`.
    Sqlite(&'a DatabaseConnection),
    /// A PostgreSQL transaction.
    Postgres(DatabaseTransaction),
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            WriteTxn::Sqlite(c) => c.get_database_backend(),
            WriteTxn::Postgres(t) => t.get_database_backend(),
        }
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            WriteTxn::Sqlite(c) => c.execute(stmt).await,
            WriteTxn::Postgres(t) => t.execute(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            WriteTxn::Sqlite(c) => c.execute_unprepared(sql).await,
            WriteTxn::Postgres(t) => t.execute_unprepared(sql).await,
        }
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            WriteTxn::Sqlite(c) => c.query_one(stmt).await,
            WriteTxn::Postgres(t) => t.query_one(stmt).await,
        }
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            WriteTxn::Sqlite(c) => c.query_all(stmt).await,
            WriteTxn::Postgres(t) => t.query_all(stmt).await,
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
