//! SQLite's ingest hot path: one rusqlite connection on a thread of its own, which runs a
//! whole batch (every statement of [`write_batch`](super::ingest)) in one visit.
//!
//! Why not sqlx's own connection: sqlx runs each SQLite connection on a worker thread
//! too, but it crosses threads once per statement and once per returned row (a channel
//! send and a futex wake each way), and under load those hand-offs, not SQLite, were most
//! of the writer's time. Here the batch crosses once: the caller sends a job, the thread
//! runs `BEGIN IMMEDIATE`, the statements (prepared once and cached), `COMMIT`, and sends
//! the answer back. BENCHMARKS.md has the two measured side by side.
//!
//! The statements are the ones sea-query builds for every backend: [`HotConnection`]
//! implements sea-orm's [`ConnectionTrait`], so `write_batch` is one function for
//! PostgreSQL, sqlx's SQLite and this. Its futures never wait (every call is synchronous
//! underneath), so the thread runs them with [`run_ready`], a single poll.
//!
//! Only the ingest batch comes here; other writers use sqlx's write connection. Both take
//! the same write turn (see `Store::write`), and SQLite's `busy_timeout` covers the rest.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use sea_orm::sea_query::Value;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, ProxyExecResult, ProxyRow, QueryResult,
    RuntimeErr, Statement,
};

use super::StoreError;
use super::sqlite_checkpoint::{Mode, checkpoint};

/// Prepared statements kept per connection: multi-row statements differ by their row
/// count, so a batch of up to 256 events uses up to a few hundred texts.
const STATEMENT_CACHE: usize = 512;

/// A unit of work for the writer thread.
type Job = Box<dyn FnOnce(&Mutex<Connection>) + Send>;

/// Counts statements (tests count them per batch).
pub(super) type StatementCounter = Arc<dyn Fn() + Send + Sync>;

/// The writer thread's handle. The thread ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct HotWriter {
    jobs: mpsc::Sender<Job>,
    counter: Arc<Mutex<Option<StatementCounter>>>,
    // Checkpoints the log in this writer's stead (see `sqlite_checkpoint`); stops with
    // the last handle.
    _checkpointer: Arc<super::sqlite_checkpoint::Checkpointer>,
}

impl std::fmt::Debug for HotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotWriter").finish_non_exhaustive()
    }
}

impl HotWriter {
    /// Opens `path` (already created and migrated) on a new thread.
    pub(super) fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        Self::open_restarting_after(path, busy_timeout, super::sqlite_checkpoint::RESTART_AFTER)
    }

    /// [`HotWriter::open`], with the log started over once past `restart_after` frames
    /// (see `sqlite_checkpoint`).
    pub(super) fn open_restarting_after(
        path: &Path,
        busy_timeout: Duration,
        restart_after: i64,
    ) -> Result<Self, StoreError> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|c| {
            // As sqlx's connections are set up (see `store::options`).
            // No checkpoints in this thread's commits: the checkpointer's thread does
            // them (the sqlx connections keep SQLite's default for their few writes).
            c.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
                 PRAGMA wal_autocheckpoint = 0;",
            )?;
            c.busy_timeout(busy_timeout)?;
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            Ok(c)
        })
        .map_err(|e| StoreError::Db(DbErr::Conn(RuntimeErr::Internal(e.to_string()))))?;
        let (jobs, receiver) = mpsc::channel::<Job>();
        // The checkpointer's request to finish a checkpoint: a job like any other, so it
        // runs between two transactions, when no frame is being written.
        let finish_jobs = jobs.clone();
        let finish: super::sqlite_checkpoint::Finish = Box::new(move || {
            let _ = finish_jobs.send(Box::new(|connection| {
                let connection = connection.lock().unwrap_or_else(|p| p.into_inner());
                // Never waits; when busy, the checkpointer asks again next round.
                let _ = checkpoint(&connection, Mode::Passive);
            }));
        });
        let checkpointer =
            super::sqlite_checkpoint::Checkpointer::start(path, restart_after, finish)?;
        std::thread::Builder::new()
            .name("mayday-sqlite-writer".into())
            .spawn(move || {
                let connection = Mutex::new(connection);
                for job in receiver {
                    job(&connection);
                }
            })
            .map_err(|e| StoreError::Db(DbErr::Conn(RuntimeErr::Internal(e.to_string()))))?;
        Ok(HotWriter {
            jobs,
            counter: Arc::default(),
            _checkpointer: Arc::new(checkpointer),
        })
    }

    /// Calls `count` for every statement this writer runs.
    pub(super) fn count_statements(&self, count: StatementCounter) {
        *self.counter.lock().unwrap_or_else(|p| p.into_inner()) = Some(count);
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction on the writer thread, commits it
    /// when it succeeds and rolls it back when it fails.
    pub(super) async fn transaction<T, W>(&self, work: W) -> Result<T, StoreError>
    where
        T: Send + 'static,
        W: AsyncFnOnce(&HotConnection<'_>) -> Result<T, DbErr> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let counter = self
            .counter
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let job: Job = Box::new(move |connection| {
            let hot = HotConnection {
                connection,
                counter,
            };
            let result = (|| {
                hot.batch("BEGIN IMMEDIATE")?;
                match run_ready(work(&hot)) {
                    Ok(value) => {
                        hot.batch("COMMIT")?;
                        Ok(value)
                    }
                    Err(error) => {
                        // A failed rollback leaves nothing to undo: SQLite rolls back
                        // when a statement fails with the transaction gone.
                        let _ = hot.batch("ROLLBACK");
                        Err(error)
                    }
                }
            })();
            // The caller may have gone away; the work is done all the same.
            let _ = reply.send(result);
        });
        self.jobs.send(job).map_err(|_| writer_gone())?;
        Ok(answer.await.map_err(|_| writer_gone())??)
    }
}

fn writer_gone() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(
        "the SQLite writer thread stopped".into(),
    ))
}

/// Polls `future` once, to completion: for futures that never wait, such as those of
/// [`HotConnection`]. One that does wait is a programming error, answered as an error.
fn run_ready<T>(future: impl Future<Output = Result<T, DbErr>>) -> Result<T, DbErr> {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(value) => value,
        Poll::Pending => Err(DbErr::Custom(
            "a write on the SQLite writer thread waited for something else".into(),
        )),
    }
}

/// The writer thread's connection, for sea-orm's queries, within a transaction.
pub(super) struct HotConnection<'c> {
    connection: &'c Mutex<Connection>,
    counter: Option<StatementCounter>,
}

impl HotConnection<'_> {
    fn batch(&self, sql: &str) -> Result<(), DbErr> {
        self.lock()
            .execute_batch(sql)
            .map_err(|e| DbErr::Exec(RuntimeErr::Internal(e.to_string())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Only the writer thread ever locks it: never contended, never poisoned by
        // another thread.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self) {
        if let Some(count) = &self.counter {
            count();
        }
    }

    fn run_execute(&self, statement: &Statement) -> Result<ExecResult, DbErr> {
        self.count();
        let connection = self.lock();
        let mut prepared = connection
            .prepare_cached(&statement.sql)
            .map_err(|e| DbErr::Exec(RuntimeErr::Internal(e.to_string())))?;
        let rows = prepared
            .execute(rusqlite::params_from_iter(params(statement)))
            .map_err(|e| DbErr::Exec(RuntimeErr::Internal(e.to_string())))?;
        let last = u64::try_from(connection.last_insert_rowid()).unwrap_or_default();
        Ok(ProxyExecResult::new(last, rows as u64).into())
    }

    fn run_query(&self, statement: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.count();
        let query_error = |e: rusqlite::Error| DbErr::Query(RuntimeErr::Internal(e.to_string()));
        let connection = self.lock();
        let mut prepared = connection
            .prepare_cached(&statement.sql)
            .map_err(query_error)?;
        // Names, and which columns are declared boolean: SQLite stores those as
        // integers, and sea-orm reads a `bool` field only from a boolean value.
        let columns: Vec<(String, bool)> = prepared
            .columns()
            .into_iter()
            .map(|c| {
                let boolean = c
                    .decl_type()
                    .is_some_and(|t| t.eq_ignore_ascii_case("boolean"));
                (c.name().to_owned(), boolean)
            })
            .collect();
        let mut rows = prepared
            .query(rusqlite::params_from_iter(params(statement)))
            .map_err(query_error)?;
        let mut results = Vec::new();
        while let Some(row) = rows.next().map_err(query_error)? {
            let mut values = BTreeMap::new();
            for (index, (name, boolean)) in columns.iter().enumerate() {
                let value = from_sqlite(row.get_ref(index).map_err(query_error)?, *boolean);
                values.insert(position_key(index), value.clone());
                values.insert(name.clone(), value);
            }
            results.push(ProxyRow { values }.into());
        }
        Ok(results)
    }
}

/// The key of a row's column by position. sea-orm reads a proxy row's columns by name,
/// and by position (tuples) as the position in its sorted map: a key per position that
/// sorts before any name keeps positions right. The first ones are made once: formatting
/// them for every column of every row was 2% of ingest's instructions.
fn position_key(index: usize) -> String {
    fn make(index: usize) -> String {
        format!("\u{0}{index:05}")
    }
    static KEYS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| (0..64).map(make).collect());
    KEYS.get(index).cloned().unwrap_or_else(|| make(index))
}

#[async_trait::async_trait]
impl ConnectionTrait for HotConnection<'_> {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.run_execute(&stmt)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.count();
        self.batch(sql)?;
        Ok(ProxyExecResult::default().into())
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.run_query(&stmt)?.into_iter().next())
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.run_query(&stmt)
    }

    fn support_returning(&self) -> bool {
        true
    }
}

/// A statement's parameters, bound without copying.
fn params(statement: &Statement) -> impl Iterator<Item = Param<'_>> {
    statement.values.iter().flat_map(|v| v.0.iter()).map(Param)
}

/// One sea-query value as an SQLite parameter.
struct Param<'v>(&'v Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        let integer = |v: Option<i64>| v.map_or(ToSqlOutput::Owned(Owned::Null), |v| v.into());
        Ok(match self.0 {
            Value::Bool(v) => integer(v.map(i64::from)),
            Value::TinyInt(v) => integer(v.map(i64::from)),
            Value::SmallInt(v) => integer(v.map(i64::from)),
            Value::Int(v) => integer(v.map(i64::from)),
            Value::BigInt(v) => integer(*v),
            Value::TinyUnsigned(v) => integer(v.map(i64::from)),
            Value::SmallUnsigned(v) => integer(v.map(i64::from)),
            Value::Unsigned(v) => integer(v.map(i64::from)),
            Value::BigUnsigned(v) => match v {
                Some(v) => i64::try_from(*v)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                    .into(),
                None => ToSqlOutput::Owned(Owned::Null),
            },
            Value::Float(v) => v.map_or(ToSqlOutput::Owned(Owned::Null), |v| f64::from(v).into()),
            Value::Double(v) => v.map_or(ToSqlOutput::Owned(Owned::Null), ToSqlOutput::from),
            Value::String(v) => v.as_deref().map_or(ToSqlOutput::Owned(Owned::Null), |s| {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }),
            Value::Char(v) => v.map_or(ToSqlOutput::Owned(Owned::Null), |c| {
                ToSqlOutput::Owned(Owned::Text(c.to_string()))
            }),
            Value::Bytes(v) => v.as_deref().map_or(ToSqlOutput::Owned(Owned::Null), |b| {
                ToSqlOutput::Borrowed(ValueRef::Blob(b))
            }),
            #[allow(unreachable_patterns)]
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("no SQLite form for {other:?}").into(),
                ));
            }
        })
    }
}

/// An SQLite value as sea-query's: integers as `BigInt` (the collector's integer
/// columns are all `i64`) or, in a column declared `boolean`, as `Bool`; NULL as a
/// `None` of that type.
fn from_sqlite(value: ValueRef<'_>, boolean: bool) -> Value {
    match value {
        ValueRef::Null if boolean => Value::Bool(None),
        ValueRef::Integer(i) if boolean => Value::Bool(Some(i != 0)),
        ValueRef::Null => Value::BigInt(None),
        ValueRef::Integer(i) => Value::BigInt(Some(i)),
        ValueRef::Real(f) => Value::Double(Some(f)),
        ValueRef::Text(t) => Value::String(Some(Box::new(String::from_utf8_lossy(t).into_owned()))),
        ValueRef::Blob(b) => Value::Bytes(Some(Box::new(b.to_vec()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_keys_sort_in_column_order_before_any_name() {
        // Past the keys made once (64) too.
        let keys: Vec<String> = (0..70).map(position_key).collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            keys.iter()
                .all(|key| key.as_str() < "a" && key.as_str() < "A")
        );
        assert_eq!(position_key(63), format!("\u{0}{:05}", 63));
        assert_eq!(position_key(64), format!("\u{0}{:05}", 64));
    }

    #[tokio::test]
    async fn runs_statements_and_reads_rows_by_name_and_position() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hot.db");
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)")
            })
            .expect("create");
        let writer = HotWriter::open(&path, Duration::from_secs(1)).expect("open");
        let rows: Vec<(i64, String, Option<i64>)> = writer
            .transaction(async |hot| {
                hot.execute(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "INSERT INTO t (name, n) VALUES (?, ?), (?, ?)",
                    [
                        "b".into(),
                        2i64.into(),
                        "a".into(),
                        Option::<i64>::None.into(),
                    ],
                ))
                .await?;
                let rows = hot
                    .query_all(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT name AS zz, n AS aa, id FROM t ORDER BY id",
                    ))
                    .await?;
                rows.iter()
                    .map(|row| {
                        // By position: (zz, aa, id) in select order, not sorted by name.
                        let (name, n): (String, Option<i64>) =
                            sea_orm::TryGetableMany::try_get_many_by_index(row)
                                .map_err(DbErr::from)?;
                        Ok((row.try_get::<i64>("", "id")?, name, n))
                    })
                    .collect()
            })
            .await
            .expect("transaction");
        assert_eq!(rows, vec![(1, "b".into(), Some(2)), (2, "a".into(), None)]);
    }

    #[tokio::test]
    async fn reads_boolean_columns_as_booleans() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hot.db");
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch(
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, paused boolean, gone boolean); \
                     INSERT INTO t (paused, gone) VALUES (1, NULL), (0, 1)",
                )
            })
            .expect("create");
        let writer = HotWriter::open(&path, Duration::from_secs(1)).expect("open");
        let rows: Vec<(bool, Option<bool>, i64)> = writer
            .transaction(async |hot| {
                let rows = hot
                    .query_all(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT paused, gone, count(*) OVER () AS n FROM t ORDER BY id",
                    ))
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            row.try_get::<bool>("", "paused")?,
                            row.try_get::<Option<bool>>("", "gone")?,
                            // An expression has no declared type: an integer.
                            row.try_get::<i64>("", "n")?,
                        ))
                    })
                    .collect()
            })
            .await
            .expect("transaction");
        assert_eq!(rows, vec![(true, None, 2), (false, Some(true), 2)]);
    }

    #[tokio::test]
    async fn a_failed_transaction_leaves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hot.db");
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
            })
            .expect("create");
        let writer = HotWriter::open(&path, Duration::from_secs(1)).expect("open");
        let insert = |name: &str| {
            Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO t (name) VALUES (?)",
                [name.into()],
            )
        };
        let (first, second) = (insert("x"), insert("x"));
        let failed = writer
            .transaction(async move |hot| {
                hot.execute(first).await?;
                hot.execute(second).await?; // UNIQUE: fails, and the first is undone.
                Ok(())
            })
            .await;
        assert!(failed.is_err());
        let count: i64 = Connection::open(&path)
            .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .expect("count");
        assert_eq!(count, 0);
    }
}
