//! `mayday-collector`: see `--help`.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mayday_collector::cli::{self, Cli, Command};
use mayday_collector::config::Config;
use mayday_collector::scheduler::housekeeping::{
    spawn_fix_watch, spawn_retention, spawn_snooze_wake,
};
use mayday_collector::store::Store;
use mayday_collector::{AppInner, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MAYDAY_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    cli.config.validate()?;
    let store = Store::connect(&cli.config.database_url)
        .await
        .with_context(|| format!("opening the database {}", redact(&cli.config.database_url)))?;
    match cli.command {
        None | Some(Command::Serve) => serve(cli.config, store).await,
        Some(command) => cli::run(&cli.config, &store, command).await,
    }
}

/// Hides a password in a database URL before printing it.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn serve(config: Config, store: Store) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    bootstrap(&config, &store).await?;
    let base = config.base_url();
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

/// On first start: a `default` project whose DSN is printed, and how to create the
/// first admin.
async fn bootstrap(config: &Config, store: &Store) -> anyhow::Result<()> {
    let projects = store.list_projects().await?;
    if projects.is_empty() {
        let created = store.create_project("default").await?;
        let dsn = config.dsn(&created.keys[0].public_key, created.project.id);
        eprintln!("created project \"default\"; report to it with:");
        eprintln!("  MAYDAY_DSN={dsn}");
    } else {
        for p in &projects {
            if let Some(key) = p.keys.iter().find(|k| k.active) {
                eprintln!(
                    "project {:?}: {}",
                    p.project.name,
                    config.dsn(&key.public_key, p.project.id)
                );
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
