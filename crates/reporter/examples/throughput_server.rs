//! A minimal server for the loopback benchmarks (`benches/wrk.sh`, `benches/instructions.sh`).
//!
//! `throughput_server <variant> <port>` serves `GET /orders/{id}` on 127.0.0.1:<port>
//! with one worker thread. Variants:
//!
//! - axum: `bare`, `noop-layer`, `mayday`, `sentry-tower`;
//! - axum with a handler that logs one `info!` per request, under a tracing registry:
//!   `tracing-bare` (registry only), `tracing-mayday` (mayday layer and its tracing layer);
//! - actix-web: `actix-bare`, `actix-mayday`, `actix-sentry` (sentry-actix).

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use tower::ServiceBuilder;
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "bare".into());
    let port: u16 = args.next().unwrap_or_else(|| "3999".into()).parse()?;

    // Both reporters are enabled with a DSN nothing listens on; the happy path sends nothing.
    let reporter = mayday_reporter::Reporter::builder(mayday_reporter::build_info!())
        .dsn("http://public@127.0.0.1:9/1")
        .build()?;
    let mut sentry_options = sentry::ClientOptions::default();
    sentry_options.dsn = "http://public@127.0.0.1:9/1".parse().ok();
    sentry_options.transport = Some(Arc::new(sentry::test::TestTransport::new()));
    let _sentry = sentry::init(sentry_options);

    if let Some(actix) = variant.strip_prefix("actix-") {
        return serve_actix(actix, port, reporter);
    }

    let routes = Router::new().route("/orders/{id}", get(|| async { "order" }));
    let logging = Router::new().route(
        "/orders/{id}",
        get(|| async {
            tracing::info!(cart = 3, "loading order");
            "order"
        }),
    );
    let app = match variant.as_str() {
        "bare" => routes,
        "noop-layer" => routes.layer(tower::layer::layer_fn(|service| service)),
        "mayday" => routes.layer(reporter.layer()),
        "sentry-tower" => routes.layer(
            ServiceBuilder::new()
                .layer(sentry_tower::NewSentryLayer::<Request>::new_from_top())
                .layer(sentry_tower::SentryHttpLayer::new()),
        ),
        "tracing-bare" => {
            tracing_subscriber::registry().init();
            logging
        }
        "tracing-mayday" => {
            tracing_subscriber::registry()
                .with(mayday_reporter::TracingLayer::new(&reporter))
                .init();
            logging.layer(reporter.layer())
        }
        other => return Err(format!("unknown variant {other}").into()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(listener, app).await
    })?;
    Ok(())
}

fn serve_actix(
    variant: &str,
    port: u16,
    reporter: mayday_reporter::Reporter,
) -> Result<(), Box<dyn std::error::Error>> {
    use actix_web::{App, HttpServer, web};

    let variant = variant.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let address = ("127.0.0.1", port);
        let route = || web::get().to(|| async { "order" });
        match variant.as_str() {
            "bare" => {
                HttpServer::new(move || App::new().route("/orders/{id}", route()))
                    .workers(1)
                    .bind(address)?
                    .run()
                    .await
            }
            "mayday" => {
                HttpServer::new(move || {
                    App::new()
                        .route("/orders/{id}", route())
                        .wrap(reporter.actix())
                })
                .workers(1)
                .bind(address)?
                .run()
                .await
            }
            "sentry" => {
                HttpServer::new(move || {
                    App::new()
                        .route("/orders/{id}", route())
                        .wrap(sentry_actix::Sentry::new())
                })
                .workers(1)
                .bind(address)?
                .run()
                .await
            }
            other => Err(std::io::Error::other(format!(
                "unknown variant actix-{other}"
            ))),
        }
    })?;
    Ok(())
}
