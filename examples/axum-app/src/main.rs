//! `cargo run -p axum-app`: the demo shop on 127.0.0.1:$PORT (default 3000), reporting to
//! `$MAYDAY_DSN`.

use std::time::Duration;

use anyhow::Context;
use mayday_reporter::Reporter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The reporter logs with `tracing`: where it reports to at start, and once each
    // when the collector refuses its key or cannot be reached. `RUST_LOG` filters.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let reporter = Reporter::from_env(axum_app::build_info()).context("MAYDAY_DSN")?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().context("PORT must be a port number")?,
        Err(_) => 3000,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    eprintln!("demo shop on http://{}", listener.local_addr()?);
    eprintln!(
        "try: curl -H 'X-Demo-User: 42:jane@example.com:Jane Doe' http://{}/panic",
        listener.local_addr()?
    );
    axum::serve(listener, axum_app::app(&reporter))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // Deliver what is still queued before exiting.
    reporter.flush(Duration::from_secs(5)).await;
    Ok(())
}
