//! `mayday-collector`: see `--help`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use mayday_collector::cli::{self, Command};
use mayday_collector::config::Config;
use mayday_collector::scheduler::housekeeping::{
    spawn_fix_watch, spawn_retention, spawn_snooze_wake,
};
use mayday_collector::store::Store;
use mayday_collector::{AppInner, projects, router};

/// mimalloc rather than the system allocator: ingest allocates and frees many small
/// buffers per event (the body, parsed fields, SQL parameters), and glibc's malloc was
/// about a sixth of the collector's CPU under load (BENCHMARKS.md, ingest). The crate's
/// `override` feature (Cargo.toml) sends the C libraries' `malloc` and `free` (SQLite's
/// page buffers and statements) to mimalloc as well.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let config = cli.config();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log)
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line per cause, never a backtrace: these are mistakes to fix, not bugs.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Option<Command>, config: Config) -> anyhow::Result<()> {
    config.validate()?;
    if let Some(Command::Restore { path }) = &command {
        // Before the database is opened: it is about to be replaced.
        let restored = mayday_collector::store::restore(&config.database_url, path)?;
        println!(
            "restored {} into {}",
            path.display(),
            restored.database.display()
        );
        if let Some(previous) = restored.previous {
            println!("the database it replaced is kept as {}", previous.display());
        }
        println!("start the collector: an older backup is upgraded as it starts");
        return Ok(());
    }
    if let Some(Command::Deploy(deploy)) = command {
        use mayday_collector::cli::deploy;
        let code = deploy::run(&config, deploy).await.unwrap_or_else(|error| {
            eprintln!("error: {error:#}");
            deploy::COULD_NOT_CHECK
        });
        std::process::exit(code);
    }
    if let Some(Command::DebugFiles(upload)) = &command
        && mayday_collector::cli::debug_files::run_remote(upload).await?
    {
        return Ok(());
    }
    let store = Store::connect(&config.database_url).await?;
    // Every command finds the project `default` on a new database, not only `serve`.
    let created = projects::ensure_default(&store).await?;
    match command {
        None | Some(Command::Serve(_)) => serve(config, store, created).await,
        Some(command) => cli::run(&config, &store, command).await,
    }
}

async fn serve(config: Config, store: Store, created_default: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (another program uses it? set MAYDAY_LISTEN or --listen)",
                config.listen
            )
        })?;
    // Held while serving: `restore` refuses to replace a database in use.
    let _serving = mayday_collector::store::Serving::claim(&config.database_url)?;
    bootstrap(&config, &store, created_default).await?;
    let base = config.base_url();
    let stored = store.clone();
    let state = AppInner::new(config, store)?;
    spawn_retention(state.clone(), Duration::from_secs(600));
    spawn_snooze_wake(state.clone(), Duration::from_secs(60));
    spawn_fix_watch(state.clone(), Duration::from_secs(30));
    let tick = Duration::from_millis(state.config.scheduler_tick_ms.max(50));
    mayday_collector::scheduler::spawn(state.clone(), tick);
    eprintln!("mayday-collector listening on {base}");
    eprintln!("  web UI:  {base}/");
    eprintln!("  health:  {base}/healthz");
    eprintln!("  metrics: {base}/metrics");
    eprintln!("  API:     {base}/api/v1/projects (Authorization: Bearer <token>)");
    let (stopping, mut stop) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        eprintln!("stopping: no new connections; finishing the requests in flight");
        let _ = stopping.send(true);
    });
    // Requests in flight are answered, and an ingest request only once its batch has
    // committed, so when the server returns nothing accepted is left unwritten.
    tokio::select! {
        served = server => served?,
        () = async {
            let _ = stop.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(DRAIN_DEADLINE).await;
        } => eprintln!("stopping: requests still open after {DRAIN_DEADLINE:?}; leaving them"),
    }
    // The database file alone is then complete (a copy of it is a backup).
    match stored.checkpoint().await {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "stopping: another process was reading the database; its write-ahead log stays \
             beside it (the next start folds it in)"
        ),
        Err(error) => eprintln!("stopping: could not fold the write-ahead log in: {error}"),
    }
    Ok(())
}

/// How long a stopping collector waits for the requests in flight.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// What a starting collector prints: the DSN of each project (saying when `default` was
/// just created), and how to create the first admin while there is none.
async fn bootstrap(config: &Config, store: &Store, created_default: bool) -> anyhow::Result<()> {
    let projects = store.list_projects().await?;
    for p in &projects {
        if let Some(key) = p.keys.iter().find(|k| k.active) {
            let dsn = config.dsn(&key.public_key, p.project.id);
            if created_default && p.project.name == projects::DEFAULT_NAME {
                eprintln!("created project \"default\"; report to it with:");
                eprintln!("  MAYDAY_DSN={dsn}");
            } else {
                eprintln!("project {:?}: {dsn}", p.project.name);
            }
        }
    }
    if store.count_accounts().await? == 0 {
        eprintln!(
            "no accounts yet; open {}/setup to create the first admin, or run:",
            config.base_url()
        );
        eprintln!(
            "  printf '%s' 'a-long-password' | cargo run --release -p mayday-collector -- user create --email you@example.com --admin"
        );
        eprintln!(
            "then an API token with: cargo run --release -p mayday-collector -- token create --email you@example.com"
        );
    }
    Ok(())
}
