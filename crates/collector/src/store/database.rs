//! The database, migrated and ready: connecting (SQLite or PostgreSQL), the one write
//! door every writer takes ([`Store::write`]), and the helpers every query shares.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, RuntimeErr, SqlxPostgresConnector, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use super::error::StoreError;
use super::keys::KeyCache;
use super::{migration, open, reads, sqlite_hot};

/// The database, migrated and ready.
#[derive(Debug, Clone)]
pub struct Store {
    /// Readers' pool (and, on PostgreSQL, writers' too).
    db: DatabaseConnection,
    /// SQLite's write path: one connection, used in turns by every writer of this
    /// process (see [`Store::write`]).
    sqlite_writer: Option<SqliteWriter>,
    /// Recent key lookups (see [`Store::find_key`]).
    pub(super) keys: Arc<KeyCache>,
    /// The connections of searches and lists (see [`Store::bounded_read`]).
    reads: Option<Arc<reads::Reads>>,
}

/// SQLite allows one writer at a time. Writers of this process take turns on one
/// connection (the turn shared by every `Store` on the same file), each in a
/// transaction that takes the write lock first (as `BEGIN IMMEDIATE` does), waiting up to
/// `busy_timeout` for writers of other processes (the CLI while the server runs),
/// instead of failing at once the way a transaction that read first and writes later
/// does when another write committed in between.
///
/// Ingest batches, the hot path, run on a rusqlite connection on a thread of its own
/// (see [`sqlite_hot`]); every other write on sqlx's write connection. Both take the turn.
#[derive(Debug, Clone)]
struct SqliteWriter {
    connection: DatabaseConnection,
    /// None for an in-memory database (another connection would see another database).
    hot: Option<sqlite_hot::HotWriter>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// A group commit's work, for [`Store::write_batch`]: one value that runs once, in a
/// transaction on whichever connection the store writes with.
pub trait BatchWork: Send + 'static {
    /// What the work returns.
    type Output: Send + 'static;
    /// Runs the work in the write transaction `txn`.
    fn run(
        self,
        txn: &impl ConnectionTrait,
    ) -> impl std::future::Future<Output = Result<Self::Output, sea_orm::DbErr>> + Send;
}

/// How long an SQLite writer waits for another process's write to end.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement may run, and wait for a lock, on PostgreSQL.
const POSTGRES_STATEMENT_TIMEOUT: &str = "30s";
const POSTGRES_LOCK_TIMEOUT: &str = "10s";
/// How long a request waits for a PostgreSQL connection.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`), creating an
    /// SQLite file's folder if needed, and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let target = open::target(url)?;
        if let open::Target::SqliteFile { path, create: true } = &target
            && let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let sqlite = url.starts_with("sqlite");
        let connected = if sqlite {
            Database::connect(options(url, 4)).await
        } else {
            postgres_pool(url).await
        };
        let db = match connected {
            Ok(db) => db,
            Err(error) => return Err(open::explain(url, &target, error).await),
        };
        if let Err(error) = migration::Migrator::up(&db, None).await {
            return Err(open::explain(url, &target, error).await);
        }
        let sqlite_writer = if sqlite {
            let hot = match sqlite_path(url) {
                Some(path) => Some(sqlite_hot::HotWriter::open(
                    Path::new(&path),
                    SQLITE_BUSY_TIMEOUT,
                )?),
                None => None,
            };
            Some(SqliteWriter {
                connection: Database::connect(options(url, 1)).await?,
                hot,
                turn: sqlite_write_lock(url),
            })
        } else {
            None
        };
        let reads = reads::Reads::open(url, &db)?.map(Arc::new);
        Ok(Store {
            db,
            sqlite_writer,
            keys: Arc::default(),
            reads,
        })
    }

    /// Runs `work` in a write transaction and commits it; rolls back when it fails.
    ///
    /// Every write of the collector comes through here: on SQLite a transaction that
    /// takes the write lock first, on the one write connection, in turns (see
    /// [`SqliteWriter`]; one connection held for the whole transaction, so no statement
    /// pays for a trip through the pool); on
    /// PostgreSQL an ordinary transaction (concurrent writers are fine there).
    pub(crate) async fn write<T>(
        &self,
        work: impl AsyncFnOnce(&WriteTxn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (_turn, txn) = match &self.sqlite_writer {
            Some(writer) => {
                let turn = writer.turn.lock().await;
                let txn = writer.connection.begin().await?;
                // A write first: SQLite takes the write lock at once (waiting up to
                // `busy_timeout` for other processes), as `BEGIN IMMEDIATE` does.
                txn.execute_unprepared(TAKE_WRITE_LOCK).await?;
                (Some(turn), txn)
            }
            None => (None, self.db.begin().await?),
        };
        // Dropped without commit (an error or a cancelled write), it rolls back.
        let value = work(&txn).await?;
        txn.commit().await?;
        Ok(value)
    }

    /// Runs `work` in one write transaction, for group commits (batches of check-ins):
    /// on SQLite's writer thread when there is one, in the write turn every writer
    /// takes (the work's futures never wait there: every statement is synchronous
    /// underneath), else through [`Store::write`].
    pub async fn write_batch<W: BatchWork>(&self, work: W) -> Result<W::Output, StoreError> {
        if let Some((hot, turn)) = self.sqlite_hot() {
            let _turn = turn.lock().await;
            return hot.transaction(async move |txn| work.run(txn).await).await;
        }
        self.write(async |txn| Ok(work.run(txn).await?)).await
    }

    /// Runs `read`, a list or search shaped by a person, for `project_id` on the
    /// connections of bounded reads: within [`reads::TIME_LIMIT`], a few per project at
    /// once, stopped if the caller goes away (see [`reads`]). Ingest, `/healthz` and the
    /// other reads never wait for these.
    pub async fn bounded_read<T>(
        &self,
        project_id: i64,
        read: impl AsyncFnOnce(&DatabaseConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.reads {
            Some(reads) => reads.run(project_id, read).await,
            // In memory: one pool, the time limit alone.
            None => tokio::time::timeout(reads::TIME_LIMIT, read(&self.db))
                .await
                .map_err(|_| StoreError::TimedOut(reads::TIME_LIMIT))?,
        }
    }

    /// Sets how long a bounded read may take (see [`Store::bounded_read`]).
    pub fn set_read_time_limit(&self, limit: Duration) {
        if let Some(reads) = &self.reads {
            reads.set_limit(limit);
        }
    }

    /// SQLite's writer thread and the write turn, when ingest goes through it.
    pub(super) fn sqlite_hot(&self) -> Option<(&sqlite_hot::HotWriter, &tokio::sync::Mutex<()>)> {
        let writer = self.sqlite_writer.as_ref()?;
        Some((writer.hot.as_ref()?, &writer.turn))
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
        let count: sqlite_hot::StatementCounter = Arc::new(count);
        let each = count.clone();
        let callback = move |_: &sea_orm::metric::Info<'_>| each();
        match &mut self.sqlite_writer {
            Some(writer) => {
                writer.connection.set_metric_callback(callback);
                if let Some(hot) = &writer.hot {
                    hot.count_statements(count);
                }
            }
            None => self.db.set_metric_callback(callback),
        }
    }

    /// SQLite: stores ingest batches through sqlx's write connection instead of the
    /// writer thread, as every other write is (the benchmark measures one against the
    /// other).
    pub fn ingest_through_sqlx(&mut self) {
        if let Some(writer) = &mut self.sqlite_writer {
            writer.hot = None;
        }
    }

    /// SQLite: moves everything in the write-ahead log into the database file and
    /// empties the log (`wal_checkpoint(TRUNCATE)`), so that the `.db` file alone is the
    /// whole database, as a stopping collector leaves it. Returns whether the log was
    /// emptied (not when another process was reading at that moment). PostgreSQL:
    /// nothing to do.
    pub async fn checkpoint(&self) -> Result<bool, StoreError> {
        let Some(writer) = &self.sqlite_writer else {
            return Ok(true);
        };
        let _turn = writer.turn.lock().await;
        // The checkpointer thread may be in the middle of its own (it takes no turn):
        // then this one is busy at once, so it tries again for up to a second.
        let mut last = Ok(false);
        for attempt in 0..20 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let row = writer
                .connection
                .query_one(sea_orm::Statement::from_string(
                    DbBackend::Sqlite,
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                ))
                .await;
            // (busy, log pages, checkpointed pages): busy 0 when it completed.
            match row.and_then(|row| row.map_or(Ok(1), |row| row.try_get_by_index::<i64>(0))) {
                Ok(0) => return Ok(true),
                Ok(_) => last = Ok(false),
                Err(error) => last = Err(error.into()),
            }
        }
        last
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

/// SQLite connection options for `url`: WAL (readers run while the writer commits),
/// `synchronous=NORMAL` and a busy timeout on every connection, and no ping before each
/// use (a round trip to the connection's thread per statement, for a file that cannot go
/// away).
fn options(url: &str, connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(connections)
        .test_before_acquire(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    options
}

/// How many connections a collector opens to PostgreSQL.
const POSTGRES_CONNECTIONS: u32 = 16;

/// A connection idle this long is pinged before it is lent: it may have died meanwhile
/// (the server restarted, a proxy dropped it). One busy within this time is lent as it
/// is, without the round trip sqlx's `test_before_acquire` makes on every loan (sqlx
/// pings again when a connection comes back, and drops one that does not answer).
const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The PostgreSQL pool: statement and lock timeouts, so that nothing waits forever; a
/// request waits [`POSTGRES_ACQUIRE_TIMEOUT`] for a connection and is then answered 503
/// with Retry-After, instead of hanging for as long as an outage lasts; connections
/// pinged before a loan only after they sat idle ([`POSTGRES_PING_AFTER_IDLE`]).
async fn postgres_pool(url: &str) -> Result<DatabaseConnection, DbErr> {
    let conn_err = |e| DbErr::Conn(RuntimeErr::SqlxError(e));
    let options = PgConnectOptions::from_str(url)
        .map_err(conn_err)?
        .disable_statement_logging()
        .options([
            ("statement_timeout", POSTGRES_STATEMENT_TIMEOUT),
            ("lock_timeout", POSTGRES_LOCK_TIMEOUT),
        ]);
    let pool = PgPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= POSTGRES_PING_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(conn_err)?;
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}

/// A write transaction (see [`Store::write`]).
pub(crate) type WriteTxn = DatabaseTransaction;

/// A statement that writes nothing but makes SQLite take the write lock: sea-orm begins
/// transactions with a plain `BEGIN`, and a transaction's first statement decides its
/// lock. A write first is what `BEGIN IMMEDIATE` does; a read first would later fail to
/// upgrade, at once and without waiting, whenever another process had committed.
const TAKE_WRITE_LOCK: &str = "UPDATE seaql_migrations SET version = version WHERE 0";

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
