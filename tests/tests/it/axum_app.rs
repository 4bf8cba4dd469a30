//! `examples/axum-app` behind mayday-reporter, over real HTTP on loopback, reporting to a
//! real receiver.

use std::time::Duration;

use mayday_protocol::{Event, Level};
use mayday_reporter::{Reporter, ReporterBuilder};
use mayday_tests::{Receiver, Scripted};
use reqwest::StatusCode;

fn builder() -> ReporterBuilder {
    Reporter::builder(axum_app::build_info()).environment("test")
}

/// Serves the demo app on an ephemeral port; returns its base URL.
async fn serve(reporter: &Reporter) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum_app::app(reporter);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the app answers")
}

async fn single_event(receiver: &Receiver, reporter: &Reporter) -> Event {
    assert!(
        reporter.flush(Duration::from_secs(10)).await,
        "flush in time"
    );
    let received = receiver.received();
    assert_eq!(received.len(), 1, "exactly one event");
    let first = &received[0];
    let auth = first.auth.as_deref().unwrap_or_default();
    assert!(auth.contains("sentry_key=public"), "auth header: {auth}");
    assert_eq!(first.content_encoding.as_deref(), Some("gzip"));
    first.event()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmatched_5xx_becomes_a_message_event_naming_the_route() {
    use axum::Router;
    use axum::http::StatusCode as AxumStatus;
    use axum::routing::get as route_get;

    let receiver = Receiver::start().await;
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();
    let app = Router::new()
        .route(
            "/orders/{id}",
            route_get(|| async { (AxumStatus::BAD_GATEWAY, "upstream down") }),
        )
        .layer(reporter.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let response = get(&format!("http://{addr}/orders/9"), &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let event = single_event(&receiver, &reporter).await;
    assert_eq!(event.message_text(), Some("HTTP 502 on GET /orders/{id}"));
    assert_eq!(event.transaction.as_deref(), Some("GET /orders/{id}"));
    assert!(event.exceptions().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_with_retry_after_pauses_sending() {
    let receiver = Receiver::start().await;
    receiver.script([Scripted {
        status: axum::http::StatusCode::TOO_MANY_REQUESTS,
        headers: vec![("retry-after", "60".into())],
    }]);
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();

    reporter.capture_message("first", Level::Error);
    assert!(reporter.flush(Duration::from_secs(10)).await);
    assert_eq!(receiver.hits(), 1);
    for i in 0..5 {
        reporter.capture_message(format!("during the pause {i}"), Level::Error);
    }
    assert!(reporter.flush(Duration::from_secs(10)).await);
    assert_eq!(receiver.hits(), 1, "nothing sent while paused");
    let stats = reporter.stats();
    assert_eq!(stats.rate_limited, 6);
    assert_eq!(stats.sent, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_until_delivered() {
    let receiver = Receiver::start().await;
    let unavailable = Scripted {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        headers: vec![],
    };
    receiver.script([unavailable.clone(), unavailable]);
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();
    reporter.capture_message("eventually", Level::Warning);
    assert!(reporter.flush(Duration::from_secs(10)).await);
    assert_eq!(receiver.hits(), 3);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].event().message_text(), Some("eventually"));
    assert_eq!(reporter.stats().sent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_delivers_everything_queued() {
    let receiver = Receiver::start().await;
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();
    for i in 0..50 {
        assert!(
            reporter
                .capture_message(format!("message {i}"), Level::Info)
                .is_some()
        );
    }
    assert!(reporter.flush(Duration::from_secs(10)).await);
    // No waiting after flush: everything is there already.
    assert_eq!(receiver.received().len(), 50);
    let stats = reporter.stats();
    assert_eq!((stats.queued, stats.sent, stats.dropped), (50, 50, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_dsns_each_get_every_event() {
    let first = Receiver::start().await;
    let second = Receiver::start().await;
    let reporter = builder()
        .dsn(first.dsn())
        .dsn(second.dsn())
        .build()
        .unwrap();
    reporter.capture_message("fan-out", Level::Error);
    assert!(reporter.flush(Duration::from_secs(10)).await);
    assert_eq!(first.received().len(), 1);
    assert_eq!(second.received().len(), 1);
    assert_eq!(
        first.received()[0].event().event_id,
        second.received()[0].event().event_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_dsn_the_layer_passes_requests_through() {
    let reporter = Reporter::builder(axum_app::build_info()).build().unwrap();
    assert!(!reporter.is_enabled());
    let base = serve(&reporter).await;
    let order = get(&format!("{base}/orders/3"), &[]).await;
    assert_eq!(order.status(), StatusCode::OK);
    assert!(reporter.capture_message("nowhere", Level::Error).is_none());
}

#[test]
fn invalid_dsn_is_a_clear_error() {
    let error = Reporter::builder(axum_app::build_info())
        .dsn("http://localhost/1")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("no public key"), "{error}");
}
