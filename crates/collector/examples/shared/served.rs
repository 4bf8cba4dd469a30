//! What the check-in and retention benchmarks share: a collector serving a new project
//! on loopback in this process, and a number read from its database.

use mayday_collector::cli::Cli;
use mayday_collector::store::Store;
use mayday_collector::{AppInner, router};
use sea_orm::{ConnectionTrait, Statement};

/// A collector serving on loopback, and what a load needs to reach it.
pub struct Served {
    pub store: Store,
    pub project_id: i64,
    /// The project's DSN key.
    pub key: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens `url`, creates `project` and serves it with the rate limit off and the
/// settings in `args` (command-line options, as `mayday-collector` takes them).
pub async fn serve(url: &str, project: &str, args: &[&str]) -> anyhow::Result<Served> {
    let store = Store::connect(url).await?;
    let created = store.create_project(project).await?;
    let key = created
        .keys
        .first()
        .map(|k| k.public_key.clone())
        .ok_or_else(|| anyhow::anyhow!("the new project has no key"))?;
    let options = [
        "mayday-collector",
        "--database-url",
        url,
        "--rate-limit",
        "0",
    ];
    let config =
        clap::Parser::try_parse_from(options.iter().chain(args)).map(|cli: Cli| cli.config())?;
    let state = AppInner::new(config, store.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Ok(Served {
        store,
        project_id: created.project.id,
        key,
        base,
        server,
    })
}

/// The column `n` of the first row `sql` returns (0 when none).
pub async fn number(db: &impl ConnectionTrait, sql: &str) -> anyhow::Result<i64> {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    Ok(db
        .query_one(statement)
        .await?
        .map_or(Ok(0), |row| row.try_get("", "n"))?)
}
