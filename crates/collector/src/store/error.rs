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
