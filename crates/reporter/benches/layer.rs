//! Cost of the reporter layer, as ratios against baselines measured in the same run.
//!
//! - `happy_path`: one request through an axum router that answers 200: bare, with a
//!   layer that does nothing (what `Router::layer` itself costs), with the mayday layer, and with the official `sentry-tower` layers
//!   (`NewSentryLayer` + `SentryHttpLayer`), each with a live client.
//! - `panic_path`: one request whose handler panics: tower-http's `CatchPanicLayer`
//!   against the mayday layer (which also records the panic site's backtrace in its
//!   panic hook and queues a report). Runs first, since the hook is process-wide.
//!
//! Run: `cargo bench -p mayday-reporter --bench layer`

use std::hint::black_box;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use mayday_reporter::Reporter;
use tower::{ServiceBuilder, ServiceExt};

/// A browser-like request: the headers a real client sends, some of them secret.
fn request(path: &str) -> Request {
    Request::builder()
        .uri(path)
        .header("host", "shop.example")
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0",
        )
        .header("accept", "text/html,application/xhtml+xml")
        .header("accept-language", "en-US,en;q=0.5")
        .header("cookie", "session=abc123; theme=dark")
        .header("authorization", "Bearer abc.def.ghi")
        .body(Body::empty())
        .expect("valid request")
}

fn routes() -> Router {
    Router::new()
        .route("/orders/{id}", get(|| async { "order" }))
        .route("/panic", get(panicking))
}

async fn panicking() -> &'static str {
    panic!("benchmark panic")
}

/// A reporter with a DSN nothing listens on: enabled, so every layer does its full
/// work; the few reports the panic bench queues are dropped when delivery fails.
/// The default hook prints every panic. Both panic variants run with a silent one,
/// installed before the reporter's hook so that the reporter's hook chains to it.
fn silence_panics() {
    static SILENCE: std::sync::Once = std::sync::Once::new();
    SILENCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

fn reporter() -> Reporter {
    silence_panics();
    Reporter::builder(mayday_reporter::build_info!())
        .dsn("http://public@127.0.0.1:9/1")
        .queue_capacity(64)
        .retry_for(std::time::Duration::from_millis(1))
        .build()
        .expect("reporter")
}

fn sentry_client() -> sentry::ClientInitGuard {
    let mut options = sentry::ClientOptions::default();
    options.dsn = "http://public@127.0.0.1:9/1".parse().ok();
    options.transport = Some(Arc::new(sentry::test::TestTransport::new()));
    sentry::init(options)
}

fn happy_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reporter = reporter();
    let _sentry = sentry_client();

    let bare = routes();
    // Any `Router::layer` re-boxes each route: this is the cost of layering as such.
    let noop = routes().layer(tower::layer::layer_fn(|service| service));
    let mayday = routes().layer(reporter.layer());
    let sentry = routes().layer(
        ServiceBuilder::new()
            .layer(sentry_tower::NewSentryLayer::<Request>::new_from_top())
            .layer(sentry_tower::SentryHttpLayer::new()),
    );

    let mut group = c.benchmark_group("happy_path");
    for (name, router) in [
        ("bare", bare),
        ("noop-layer", noop),
        ("mayday", mayday),
        ("sentry-tower", sentry),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let router = router.clone();
                async move {
                    let response = router
                        .oneshot(request("/orders/7"))
                        .await
                        .expect("infallible");
                    assert_eq!(response.status(), 200);
                    black_box(response)
                }
            });
        });
    }
    group.finish();
}

fn panic_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("panic_path");

    // The panic hook is process-wide: measure the baseline before any reporter exists,
    // so that it runs with the silent hook alone.
    silence_panics();
    let catch_panic = routes().layer(tower_http::catch_panic::CatchPanicLayer::new());
    group.bench_function("catch-panic", |b| {
        b.to_async(&runtime).iter(|| {
            let router = catch_panic.clone();
            async move {
                let response = router.oneshot(request("/panic")).await.expect("infallible");
                assert_eq!(response.status(), 500);
                black_box(response)
            }
        });
    });

    let reporter = reporter();
    let mayday = routes().layer(reporter.layer());
    group.bench_function("mayday", |b| {
        b.to_async(&runtime).iter(|| {
            let router = mayday.clone();
            async move {
                let response = router.oneshot(request("/panic")).await.expect("infallible");
                assert_eq!(response.status(), 500);
                black_box(response)
            }
        });
    });
    group.finish();
}

// The panic group runs first: its baseline needs a process without the reporter's hook.
criterion_group!(benches, panic_path, happy_path);
criterion_main!(benches);
