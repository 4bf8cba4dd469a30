//! A minimal axum server for the loopback throughput benchmark (`benches/wrk.sh`).
//!
//! `throughput_server <bare|noop-layer|mayday|sentry-tower> <port>` serves `GET /orders/{id}` on
//! 127.0.0.1:<port> with one runtime worker thread, bare or behind a reporting layer.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use tower::ServiceBuilder;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "bare".into());
    let port: u16 = args.next().unwrap_or_else(|| "3999".into()).parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;

    let routes = Router::new().route("/orders/{id}", get(|| async { "order" }));
    // Both reporters are enabled with a DSN nothing listens on; the happy path sends nothing.
    let reporter = mayday_reporter::Reporter::builder(mayday_reporter::build_info!())
        .dsn("http://public@127.0.0.1:9/1")
        .build()?;
    let mut sentry_options = sentry::ClientOptions::default();
    sentry_options.dsn = "http://public@127.0.0.1:9/1".parse().ok();
    sentry_options.transport = Some(Arc::new(sentry::test::TestTransport::new()));
    let _sentry = sentry::init(sentry_options);

    let app = match variant.as_str() {
        "bare" => routes,
        "noop-layer" => routes.layer(tower::layer::layer_fn(|service| service)),
        "mayday" => routes.layer(reporter.layer()),
        "sentry-tower" => routes.layer(
            ServiceBuilder::new()
                .layer(sentry_tower::NewSentryLayer::<Request>::new_from_top())
                .layer(sentry_tower::SentryHttpLayer::new()),
        ),
        other => return Err(format!("unknown variant {other}").into()),
    };
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await
    })?;
    Ok(())
}
