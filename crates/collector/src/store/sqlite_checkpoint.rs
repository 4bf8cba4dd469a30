//! SQLite's WAL checkpoints off the writer thread. By default SQLite checkpoints in the
//! commit that grows the log past 1,000 pages, so under load every so often one ingest
//! batch also copies the log into the database file and fsyncs it (a profile showed 14%
//! of the collector's CPU there, on the thread every acknowledgement waits for). The
//! writer turns that off (`wal_autocheckpoint = 0`) and this thread, with a connection
//! of its own, checkpoints instead: `PASSIVE` every [`EVERY`] (copies what it can
//! without waiting for the writer or readers), and `TRUNCATE` once the log stopped
//! growing (nothing was written since the last look), so an idle collector's log is
//! empty and its `.db` file whole.
//!
//! Under steady load that alone lets the log grow without end: SQLite starts the log
//! over only when a write begins with every frame already copied, and a checkpoint that
//! runs beside the writer never catches up with it (1.2 GB of log after 15 s of the
//! ingest benchmark: the disk fills as long as the load lasts). So once the log is past
//! [`RESTART_AFTER`] frames, this thread, having copied the bulk, asks the writer
//! (`finish`) to copy the few frames written meanwhile, between two of its
//! transactions; its next transaction then writes the log from the start again, over
//! file pages the kernel already holds.
//!
//! Durability is the same: a commit is in the log before it is acknowledged; a
//! checkpoint only moves committed pages into the main file.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sea_orm::{DbErr, RuntimeErr};

use super::StoreError;

/// How often the log is checkpointed.
const EVERY: Duration = Duration::from_millis(250);
/// How long a `TRUNCATE` waits for the writer before trying again next time.
const TRUNCATE_WAIT: Duration = Duration::from_millis(50);
/// Log frames (pages) past which the writer is asked to finish a checkpoint, so that
/// the log starts over: 64 MiB of 4 KiB pages, about a second of the ingest
/// benchmark's writes. Each finish holds the writer for a few milliseconds (the copy of
/// the last frames and two fsyncs); at SQLite's own 1,000 pages that came four times a
/// second and raised the benchmark's p99 from 9 to 12 ms.
pub(super) const RESTART_AFTER: i64 = 16_384;

/// Asks the writer to checkpoint, on its own connection, what is left of the log.
pub(super) type Finish = Box<dyn Fn() + Send>;

/// The checkpointer's handle: the thread ends when it is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (in WAL mode) on a thread; `finish`
    /// asks its writer to complete a checkpoint once the log is past `restart_after`
    /// frames ([`RESTART_AFTER`] but in tests).
    pub(super) fn start(
        path: &Path,
        restart_after: i64,
        finish: Finish,
    ) -> Result<Checkpointer, StoreError> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|c| {
            c.busy_timeout(TRUNCATE_WAIT)?;
            Ok(c)
        })
        .map_err(open_error)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("mayday-sqlite-checkpoint".into())
            .spawn(move || run(&connection, &stopped, restart_after, &finish))
            .map_err(|e| open_error(e.to_string()))?;
        Ok(Checkpointer { _stop: stop })
    }
}

fn open_error(error: impl ToString) -> StoreError {
    StoreError::Db(DbErr::Conn(RuntimeErr::Internal(error.to_string())))
}

/// How a checkpoint treats the writer and the readers (SQLite's modes).
#[derive(Debug, Clone, Copy)]
pub(super) enum Mode {
    /// Copies what it can without waiting for anyone.
    Passive,
    /// Waits (up to the busy timeout) for the writer and readers, copies everything
    /// and empties the log file.
    Truncate,
}

/// `PRAGMA wal_checkpoint(mode)`: (log frames, frames checkpointed), or `None` when it
/// failed (busy, say; the next round tries again).
pub(super) fn checkpoint(connection: &Connection, mode: Mode) -> Option<(i64, i64)> {
    let mode = match mode {
        Mode::Passive => "PASSIVE",
        Mode::Truncate => "TRUNCATE",
    };
    connection
        .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        })
        .ok()
}

fn run(connection: &Connection, stopped: &mpsc::Receiver<()>, restart_after: i64, finish: &Finish) {
    let mut last_log = -1;
    loop {
        match stopped.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            // The store is gone (or asked to stop): a last one, so the file is whole.
            _ => {
                checkpoint(connection, Mode::Truncate);
                return;
            }
        }
        let Some((log, _)) = checkpoint(connection, Mode::Passive) else {
            continue;
        };
        if log > 0 && log == last_log {
            // Nothing written since the last look: empty the log.
            checkpoint(connection, Mode::Truncate);
            last_log = -1;
        } else {
            if log > restart_after {
                finish();
            }
            last_log = log;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database's log file, beside it.
    fn wal(path: &Path) -> std::path::PathBuf {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        wal.into()
    }

    fn wal_bytes(path: &Path) -> u64 {
        std::fs::metadata(wal(path)).map_or(0, |m| m.len())
    }

    #[test]
    fn the_log_is_checkpointed_and_emptied_once_writes_stop() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
                 CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT);",
            )
            .expect("set up");
        // A writer that never finishes a checkpoint: the idle rounds alone empty the log.
        let _checkpointer =
            Checkpointer::start(&path, RESTART_AFTER, Box::new(|| {})).expect("start");
        for _ in 0..2000 {
            writer
                .execute("INSERT INTO t (body) VALUES (?1)", ["x".repeat(500)])
                .expect("insert");
        }
        assert!(wal_bytes(&path) > 0, "the writer does not checkpoint");
        // The checkpointer empties the log within a few rounds of quiet.
        let mut emptied = false;
        for _ in 0..100 {
            std::thread::sleep(EVERY);
            if wal_bytes(&path) == 0 {
                emptied = true;
                break;
            }
        }
        assert!(emptied, "the log still holds {} bytes", wal_bytes(&path));
        // And the rows are in the main file: a fresh reader sees them all.
        let n: i64 = Connection::open(&path)
            .expect("open")
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 2000);
    }

    /// The log's checkpoint sequence number (bytes 12 to 16 of its header), which SQLite
    /// counts up each time the log starts over.
    fn log_restarts(path: &Path) -> u32 {
        let header = std::fs::read(wal(path)).unwrap_or_default();
        header
            .get(12..16)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_be_bytes)
    }

    /// Under writes that never pause, the log starts over again and again (the writer
    /// finishes the checkpoints this thread begins) instead of holding all that was
    /// written.
    #[tokio::test]
    async fn the_log_starts_over_under_steady_writes() {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        const ROW: i64 = 3_000;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
            .expect("create");
        // A short log, so that a few seconds of writes restart it several times.
        let writer = super::super::sqlite_hot::HotWriter::open_restarting_after(
            &path,
            Duration::from_secs(1),
            1_000,
        )
        .expect("open");
        let restarts_before = log_restarts(&path);
        let started = std::time::Instant::now();
        let (mut inserted, mut longest) = (0, 0);
        // Twelve rounds of the checkpointer, however fast this machine writes.
        while started.elapsed() < EVERY * 12 {
            let insert = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO t (body) VALUES (zeroblob(?))",
                [ROW.into()],
            );
            writer
                .transaction(async move |hot| hot.execute(insert).await.map(|_| ()))
                .await
                .expect("insert");
            inserted += ROW as u64;
            longest = longest.max(wal_bytes(&path));
        }
        let restarts = log_restarts(&path).saturating_sub(restarts_before);
        assert!(restarts >= 4, "the log started over {restarts} times");
        // Without restarts the log holds at least a page per transaction: more than the
        // rows inserted.
        assert!(
            longest < inserted,
            "the log grew to {longest} bytes for {inserted} bytes inserted"
        );
    }
}
