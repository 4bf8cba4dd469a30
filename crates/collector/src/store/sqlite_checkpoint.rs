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

/// The checkpointer's handle: the thread ends when it is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (in WAL mode) on a thread.
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
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
            .spawn(move || run(&connection, &stopped))
            .map_err(|e| open_error(e.to_string()))?;
        Ok(Checkpointer { _stop: stop })
    }
}

fn open_error(error: impl ToString) -> StoreError {
    StoreError::Db(DbErr::Conn(RuntimeErr::Internal(error.to_string())))
}

/// `PRAGMA wal_checkpoint(mode)`: (log frames, frames checkpointed), or `None` when it
/// failed (busy, say; the next round tries again).
fn checkpoint(connection: &Connection, mode: &str) -> Option<(i64, i64)> {
    connection
        .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        })
        .ok()
}

fn run(connection: &Connection, stopped: &mpsc::Receiver<()>) {
    let mut last_log = -1;
    loop {
        match stopped.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            // The store is gone (or asked to stop): a last one, so the file is whole.
            _ => {
                checkpoint(connection, "TRUNCATE");
                return;
            }
        }
        let Some((log, _)) = checkpoint(connection, "PASSIVE") else {
            continue;
        };
        if log > 0 && log == last_log {
            // Nothing written since the last look: empty the log.
            checkpoint(connection, "TRUNCATE");
            last_log = -1;
        } else {
            last_log = log;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_bytes(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
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
        let _checkpointer = Checkpointer::start(&path).expect("start");
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
}
