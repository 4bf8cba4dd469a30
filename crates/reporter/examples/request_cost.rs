//! Runs N requests through an axum router in-process, for instruction counting under
//! `valgrind --tool=callgrind` (`benches/instructions.sh`): counts are repeatable where
//! wall-clock throughput on a shared machine is not.
//!
//! `request_cost <bare|noop-layer|mayday|mayday-no-counts|sentry-tower> <n>`
//! (`mayday` counts requests per route, the default; `mayday-no-counts` does not).
//!
//! Requests carry browser-like headers whose values are slices of one shared buffer, as
//! hyper hands them to the app (cloning them is a reference count, not a copy).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use bytes::Bytes;
use http::HeaderValue;
use tower::{ServiceBuilder, ServiceExt};

const HEADERS: &[(&str, &str)] = &[
    ("host", "shop.example"),
    (
        "user-agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0",
    ),
    ("accept", "text/html,application/xhtml+xml"),
    ("accept-language", "en-US,en;q=0.5"),
    ("cookie", "session=abc123; theme=dark"),
    ("authorization", "Bearer abc.def.ghi"),
];

fn request(buffer: &Bytes, spans: &[(usize, usize)]) -> Request {
    let mut builder = Request::builder().uri("/orders/7");
    for ((name, _), (start, end)) in HEADERS.iter().zip(spans) {
        let value =
            HeaderValue::from_maybe_shared(buffer.slice(*start..*end)).expect("valid value");
        builder = builder.header(*name, value);
    }
    builder.body(Body::empty()).expect("valid request")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "bare".into());
    let count: u64 = args.next().unwrap_or_else(|| "10000".into()).parse()?;

    let mut text = String::new();
    let mut spans = Vec::new();
    for (_, value) in HEADERS {
        spans.push((text.len(), text.len() + value.len()));
        text.push_str(value);
    }
    let buffer = Bytes::from(text);
    // Make the buffer shared, as hyper's read buffer is.
    let _keep = buffer.clone();

    let reporter = mayday_reporter::Reporter::builder(mayday_reporter::build_info!())
        .dsn("http://public@127.0.0.1:9/1")
        .request_counts(variant != "mayday-no-counts")
        .build()?;
    let mut sentry_options = sentry::ClientOptions::default();
    sentry_options.dsn = "http://public@127.0.0.1:9/1".parse().ok();
    sentry_options.transport = Some(Arc::new(sentry::test::TestTransport::new()));
    let _sentry = sentry::init(sentry_options);

    let routes = Router::new().route("/orders/{id}", get(|| async { "order" }));
    let app = match variant.as_str() {
        "bare" => routes,
        "noop-layer" => routes.layer(tower::layer::layer_fn(|service| service)),
        "mayday" | "mayday-no-counts" => routes.layer(reporter.layer()),
        "sentry-tower" => routes.layer(
            ServiceBuilder::new()
                .layer(sentry_tower::NewSentryLayer::<Request>::new_from_top())
                .layer(sentry_tower::SentryHttpLayer::new()),
        ),
        other => return Err(format!("unknown variant {other}").into()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        for _ in 0..count {
            let response = app.clone().oneshot(request(&buffer, &spans)).await?;
            assert_eq!(response.status(), 200);
        }
        Ok::<_, std::convert::Infallible>(())
    })?;
    Ok(())
}
