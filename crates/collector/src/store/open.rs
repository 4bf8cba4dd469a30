//! The database URL as people write it, and what to tell them when the database cannot
//! be opened: one line naming the URL (password hidden) or the file, what is wrong, and
//! the fix, instead of the driver's words.

use std::path::Path;
use std::time::Duration;

use sea_orm::{DbErr, RuntimeErr, sqlx};

use super::error::StoreError;

/// The forms the collector takes, for messages.
const FORMS: &str = "write sqlite://PATH?mode=rwc (a file, created with its folder) or \
                     postgres://USER@HOST:PORT/DB";

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// An SQLite file; `create` when the URL allows creating it (`mode=rwc`).
    SqliteFile { path: String, create: bool },
    /// An in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL server.
    Postgres,
}

/// The URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn refused(url: &str, problem: impl Into<String>, fix: impl Into<String>) -> StoreError {
    StoreError::Open {
        url: redact(url),
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// What `url` names, or why it names nothing the collector can open.
pub(super) fn target(url: &str) -> Result<Target, StoreError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(refused(url, "the URL is empty", FORMS));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres);
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        let fix = if url.contains("://") {
            FORMS.to_owned()
        } else {
            // A bare path: say how to write it.
            format!("for a file write sqlite://{url}?mode=rwc")
        };
        return Err(refused(
            url,
            "this is not a database URL the collector knows",
            fix,
        ));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return Ok(Target::SqliteMemory);
    }
    let create = query.split('&').any(|p| p == "mode=rwc");
    if !create && !Path::new(path).exists() {
        return Err(refused(
            url,
            format!("the SQLite file {path} does not exist"),
            format!("add ?mode=rwc to create it: sqlite://{path}?mode=rwc"),
        ));
    }
    Ok(Target::SqliteFile {
        path: path.to_owned(),
        create,
    })
}

/// The driver's error `error`, met while opening or migrating `url`, in words that say
/// what to do.
pub(super) async fn explain(url: &str, target: &Target, error: DbErr) -> StoreError {
    if let DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::Configuration(cause))) = &error {
        let fix = match target {
            Target::Postgres => {
                "write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DB, with options \
                 PostgreSQL knows (such as ?sslmode=disable, prefer or require)"
            }
            Target::SqliteFile { .. } | Target::SqliteMemory => {
                "write it as sqlite://PATH?mode=rwc, with options SQLite's driver knows \
                 (mode, cache, immutable, vfs)"
            }
        };
        return refused(
            url,
            format!(
                "the database driver refuses its settings: {}",
                last_line(&cause.to_string())
            ),
            fix,
        );
    }
    let text = error.to_string();
    match target {
        Target::SqliteFile { path, .. } => {
            if text.contains("readonly") || text.contains("read-only") {
                return refused(
                    url,
                    format!("the SQLite file {path} is read-only to this user"),
                    format!(
                        "the collector writes to it and to {path}-wal and {path}-shm beside it: \
                         give this user write access to the file and its folder"
                    ),
                );
            }
            if text.contains("unable to open") {
                return refused(
                    url,
                    format!("SQLite cannot open {path}"),
                    "check that its folder exists and this user may read and write there",
                );
            }
            if text.contains("not a database") || text.contains("malformed") {
                return refused(
                    url,
                    format!("{path} is not an SQLite database (or is damaged)"),
                    "point MAYDAY_DATABASE_URL at the collector's database file",
                );
            }
            StoreError::Db(error)
        }
        Target::Postgres => {
            if let Some(problem) = unreachable(url).await {
                return refused(
                    url,
                    problem,
                    "start PostgreSQL or fix the host and port in MAYDAY_DATABASE_URL \
                     (postgres://USER@HOST:PORT/DB)",
                );
            }
            if text.contains("password authentication failed") || text.contains("no password") {
                return refused(
                    url,
                    "PostgreSQL refused the user name or password",
                    "put the right ones in the URL: postgres://USER:PASSWORD@HOST:PORT/DB",
                );
            }
            if text.contains("role \"") && text.contains("does not exist") {
                return refused(
                    url,
                    format!("PostgreSQL says: {}", last_line(&text)),
                    "put a user that exists in the URL (postgres://USER@HOST:PORT/DB), or \
                     create this one first (createuser NAME)",
                );
            }
            if text.contains("does not exist") {
                return refused(
                    url,
                    format!("PostgreSQL says: {}", last_line(&text)),
                    "create the database first (createdb NAME), or name one that exists",
                );
            }
            StoreError::Db(error)
        }
        Target::SqliteMemory => StoreError::Db(error),
    }
}

/// Why PostgreSQL's host and port cannot be reached, if they cannot.
async fn unreachable(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_owned();
    let port = parsed.port().unwrap_or(5432);
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => None,
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => Some(format!(
            "nothing accepts connections at {host}:{port} (is PostgreSQL running?)"
        )),
        Ok(Err(error)) => Some(format!("cannot reach {host}:{port}: {error}")),
        Err(_) => Some(format!("{host}:{port} does not answer within 3 s")),
    }
}

/// The most specific part of a driver's message.
fn last_line(text: &str) -> &str {
    text.rsplit(": ").next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_people_write() {
        let dir = tempfile_dir();
        let file = format!("{dir}/mayday.db");
        assert_eq!(
            target(&format!("sqlite://{file}?mode=rwc")).unwrap(),
            Target::SqliteFile {
                path: file.clone(),
                create: true
            }
        );
        assert_eq!(target("sqlite::memory:").unwrap(), Target::SqliteMemory);
        assert_eq!(target("postgres://me@db/mayday").unwrap(), Target::Postgres);
        let missing = target(&format!("sqlite:{file}")).unwrap_err().to_string();
        assert!(missing.contains("does not exist"), "{missing}");
        assert!(missing.contains("?mode=rwc"), "{missing}");
        let bare = target("./mayday-data/mayday.db").unwrap_err().to_string();
        assert!(
            bare.contains("sqlite://./mayday-data/mayday.db?mode=rwc"),
            "{bare}"
        );
        let other = target("mysql://me@db/x").unwrap_err().to_string();
        assert!(other.contains("postgres://USER@HOST:PORT/DB"), "{other}");
        assert!(
            !redact("postgres://me:secret@db/x").contains("secret"),
            "passwords are hidden"
        );
    }

    fn tempfile_dir() -> String {
        let dir = std::env::temp_dir().join(format!("mayday-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.display().to_string()
    }
}
