//! Bounded reads: the lists and searches people shape (words, filters, pages) run on
//! connections of their own, a few at a time and at most [`PER_PROJECT`] per project,
//! each under a time limit, and stop when the person goes away. So a search built to be
//! slow costs its author a few seconds and nobody else anything: ingest, `/healthz` and
//! every other read keep the main pool, and another project's list finds a free
//! connection.
//!
//! How a read is stopped, at its time limit or when its reader goes away (the request's
//! future dropped): on SQLite a progress handler on each of these connections asks,
//! every few thousand steps of the query, whether its time is up or its reader gone,
//! and interrupts it if so; on PostgreSQL the query is cancelled (`pg_cancel_backend`
//! on its backend). A connection goes back to the free list only once the stopped
//! query has ended.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx;
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, SqlxPostgresConnector, SqlxSqliteConnector,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::StoreError;

/// Bounded reads under way at once, per collector.
pub const SLOTS: usize = 4;
/// Bounded reads of one project under way at once, per collector.
pub const PER_PROJECT: usize = 2;
/// How long a bounded read may take, waiting for a connection included, unless set
/// otherwise (`MAYDAY_READ_TIME_LIMIT_MS`).
pub const TIME_LIMIT: Duration = Duration::from_secs(5);
/// SQLite virtual-machine steps between two looks at the clock (a few microseconds).
const PROGRESS_STEPS: i32 = 4_000;

/// What one connection's stop switch knows: until when its query may run, and whether
/// its reader went away. Read by the SQLite progress handler on the connection's thread.
#[derive(Debug, Default)]
struct Control {
    deadline: Mutex<Option<Instant>>,
    cancelled: AtomicBool,
    /// PostgreSQL: the connection's backend, for `pg_cancel_backend`.
    backend_pid: AtomicI32,
}

impl Control {
    /// Whether the query under way may go on.
    fn may_continue(&self) -> bool {
        if self.cancelled.load(Ordering::Relaxed) {
            return false;
        }
        let deadline = *self.deadline.lock().unwrap_or_else(|p| p.into_inner());
        deadline.is_none_or(|deadline| Instant::now() < deadline)
    }
}

/// One connection (a pool of one, so that its stop switch is known) and its switch.
#[derive(Debug, Clone)]
struct Slot {
    db: DatabaseConnection,
    control: Arc<Control>,
}

/// The connections of bounded reads.
#[derive(Debug)]
pub(super) struct Reads {
    free: Mutex<Vec<Slot>>,
    available: Arc<Semaphore>,
    projects: Mutex<HashMap<i64, Arc<Semaphore>>>,
    /// The main pool, for cancelling on PostgreSQL.
    main: DatabaseConnection,
    /// How long a read may take, in milliseconds.
    limit_ms: AtomicU64,
}

impl Reads {
    /// [`SLOTS`] connections to `url` (connected when first used). `None` for an
    /// in-memory SQLite database, whose other connections would see another database.
    pub(super) fn open(url: &str, main: &DatabaseConnection) -> Result<Option<Reads>, StoreError> {
        let mut free = Vec::with_capacity(SLOTS);
        for _ in 0..SLOTS {
            let control = Arc::new(Control::default());
            let db = if url.starts_with("sqlite") {
                if url.contains(":memory:") || url.contains("mode=memory") {
                    return Ok(None);
                }
                sqlite_slot(url, control.clone())?
            } else {
                postgres_slot(url, control.clone())?
            };
            free.push(Slot { db, control });
        }
        Ok(Some(Reads {
            free: Mutex::new(free),
            available: Arc::new(Semaphore::new(SLOTS)),
            projects: Mutex::default(),
            main: main.clone(),
            limit_ms: AtomicU64::new(TIME_LIMIT.as_millis() as u64),
        }))
    }

    /// Runs `read` for `project_id` on a free connection within [`TIME_LIMIT`].
    pub(super) async fn run<T>(
        self: &Arc<Self>,
        project_id: i64,
        read: impl AsyncFnOnce(&DatabaseConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let limit = self.limit();
        let deadline = Instant::now() + limit;
        let project = {
            let mut projects = self.projects.lock().unwrap_or_else(|p| p.into_inner());
            projects
                .entry(project_id)
                .or_insert_with(|| Arc::new(Semaphore::new(PER_PROJECT)))
                .clone()
        };
        let wait = async {
            let project = project.acquire_owned().await;
            let any = self.available.clone().acquire_owned().await;
            (project, any)
        };
        let (Ok(project_turn), Ok(turn)) = tokio::time::timeout_at(deadline.into(), wait)
            .await
            .map_err(|_| StoreError::Busy)?
        else {
            return Err(StoreError::Busy);
        };
        let slot = self
            .free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .ok_or(StoreError::Busy)?;
        *slot
            .control
            .deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(deadline);
        let mut lease = Lease {
            reads: self.clone(),
            slot: Some(slot),
            turns: Some((project_turn, turn)),
            finished: false,
        };
        let db = lease.db();
        // Past the deadline the read is dropped, and the lease stops its query.
        let Ok(result) = tokio::time::timeout_at(deadline.into(), read(&db)).await else {
            return Err(StoreError::TimedOut(limit));
        };
        lease.finished = true;
        result.map_err(|error| match error {
            StoreError::Db(db) if stopped(&db) || Instant::now() >= deadline => {
                StoreError::TimedOut(limit)
            }
            other => other,
        })
    }

    /// How long a read may take.
    pub(super) fn limit(&self) -> Duration {
        Duration::from_millis(self.limit_ms.load(Ordering::Relaxed))
    }

    /// Sets how long a read may take (PostgreSQL's `statement_timeout` stays the
    /// default's: the limit here ends the wait sooner, and cancels the query).
    pub(super) fn set_limit(&self, limit: Duration) {
        let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
        self.limit_ms.store(ms, Ordering::Relaxed);
    }

    fn give_back(&self, slot: Slot) {
        slot.control.cancelled.store(false, Ordering::Relaxed);
        *slot
            .control
            .deadline
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
        self.free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(slot);
    }
}

/// A connection lent to one read. Dropped before the read finished (its reader went
/// away), it stops the query and takes the connection back once it has stopped.
struct Lease {
    reads: Arc<Reads>,
    slot: Option<Slot>,
    turns: Option<(OwnedSemaphorePermit, OwnedSemaphorePermit)>,
    finished: bool,
}

impl Lease {
    fn db(&self) -> DatabaseConnection {
        self.slot
            .as_ref()
            .map(|s| s.db.clone())
            .unwrap_or_else(|| self.reads.main.clone())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (Some(slot), Some(turns)) = (self.slot.take(), self.turns.take()) else {
            return;
        };
        if self.finished {
            self.reads.give_back(slot);
            drop(turns);
            return;
        }
        slot.control.cancelled.store(true, Ordering::Relaxed);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let reads = self.reads.clone();
        // The slot (and its turns) come back once its connection answers again.
        runtime.spawn(async move {
            let main = &reads.main;
            let pid = slot.control.backend_pid.load(Ordering::Relaxed);
            if pid != 0 {
                let cancel = sea_orm::Statement::from_string(
                    main.get_database_backend(),
                    format!("SELECT pg_cancel_backend({pid})"),
                );
                let _ = main.execute(cancel).await;
            }
            let _ = slot.db.execute_unprepared("SELECT 1").await;
            reads.give_back(slot);
            drop(turns);
        });
    }
}

/// Whether `error` is a query stopped by its time limit or its reader going away.
fn stopped(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("interrupted") || text.contains("canceling statement")
}

fn sqlite_slot(url: &str, control: Arc<Control>) -> Result<DatabaseConnection, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Db(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))))?
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .test_before_acquire(false)
        .after_connect(move |connection, _| {
            let control = control.clone();
            Box::pin(async move {
                let mut handle = connection.lock_handle().await?;
                handle.set_progress_handler(PROGRESS_STEPS, move || control.may_continue());
                Ok(())
            })
        })
        .connect_lazy_with(options);
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

fn postgres_slot(url: &str, control: Arc<Control>) -> Result<DatabaseConnection, StoreError> {
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Db(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))))?
        // A backstop: the read's own limit cancels it sooner.
        .options([("statement_timeout", "30s")]);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(TIME_LIMIT)
        .after_connect(move |connection, _| {
            let control = control.clone();
            Box::pin(async move {
                let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                    .fetch_one(&mut *connection)
                    .await?;
                control.backend_pid.store(pid, Ordering::Relaxed);
                Ok(())
            })
        })
        .connect_lazy_with(options);
    Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
}
