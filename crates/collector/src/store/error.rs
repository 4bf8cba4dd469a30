//! Why a storage operation failed: one error type for every query, so that edges map it
//! to one HTTP status each.

use sea_orm::DbErr;

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
    /// The database cannot be opened: which, why, and what to do.
    #[error("cannot open the database {url}: {problem}; {fix}")]
    Open {
        /// The URL, password hidden.
        url: String,
        /// What is wrong.
        problem: String,
        /// What to do about it.
        fix: String,
    },
    /// A named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value is taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// A limit is reached; the text says which and what to do.
    #[error("{0}")]
    AtLimit(String),
    /// Too many reads of the project (or of everyone) are under way; retry shortly.
    #[error("too many searches are running; retry in a moment")]
    Busy,
    /// A read took longer than its limit and was stopped.
    #[error("the search took longer than {} and was stopped: narrow it (fewer words, or release:, environment:, level:)", limit_text(*.0))]
    TimedOut(std::time::Duration),
    /// Stored payload could not be read back.
    #[error("stored payload is unreadable: {0}")]
    Payload(String),
}

/// A unique constraint's error as a conflict on `what`; other errors as they are.
pub(super) fn db_conflict(err: DbErr, what: &str) -> StoreError {
    let text = err.to_string().to_lowercase();
    if text.contains("unique") || text.contains("duplicate") {
        StoreError::Conflict(what.to_owned())
    } else {
        StoreError::Db(err)
    }
}

/// A time limit as people write it: `5 s`, `1.5 s`, `300 ms`.
fn limit_text(limit: std::time::Duration) -> String {
    if limit < std::time::Duration::from_secs(1) {
        format!("{} ms", limit.as_millis())
    } else if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{:.1} s", limit.as_secs_f64())
    }
}
