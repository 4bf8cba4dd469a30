//! `examples/axum-app` behind mayday-reporter, over real HTTP on loopback, reporting to a
//! real receiver.

use std::time::Duration;

use mayday_protocol::{Event, Level};
use mayday_reporter::{Reporter, ReporterBuilder};
use mayday_tests::{Receiver, Scripted};
use reqwest::StatusCode;

const JANE: &str = "42:jane@example.com:Jane Doe";

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
async fn panic_answers_500_and_reports_the_panic_site_user_and_request() {
    let receiver = Receiver::start().await;
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();
    let base = serve(&reporter).await;

    let response = get(
        &format!("{base}/panic?bundle=team&token=s3cret"),
        &[
            ("x-demo-user", JANE),
            ("authorization", "Bearer abc.def.ghi"),
            ("cookie", "session=abc123; theme=dark"),
            (
                "user-agent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0",
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let event = single_event(&receiver, &reporter).await;
    assert_eq!(event.level, Some(Level::Fatal));
    let exception = &event.exceptions()[0];
    assert_eq!(exception.ty.as_deref(), Some("panic"));
    assert_eq!(
        exception.value.as_deref(),
        Some("coupon BLACKFRIDAY is not in the discount table")
    );
    let mechanism = exception.mechanism.as_ref().unwrap();
    assert_eq!(mechanism.ty.as_deref(), Some("panic"));
    assert_eq!(mechanism.handled, Some(false));

    // The panic site's backtrace: the top in-app frame is the panicking function.
    let frames = &exception.stacktrace.as_ref().expect("stack trace").frames;
    let top_in_app = frames
        .iter()
        .rev()
        .find(|f| f.in_app == Some(true))
        .expect("an in-app frame");
    assert_eq!(
        top_in_app.function.as_deref(),
        Some("axum_app::checkout::apply_coupon")
    );
    assert_eq!(top_in_app.filename.as_deref(), Some("src/lib.rs"));
    assert!(
        top_in_app
            .abs_path
            .as_deref()
            .is_some_and(|p| p.ends_with("examples/axum-app/src/lib.rs"))
    );
    assert!(top_in_app.lineno.is_some_and(|l| l > 0));
    assert!(
        frames.iter().any(|f| f.function.as_deref()
            == Some("axum_app::checkout::handler::{{closure}}")
            || f.function
                .as_deref()
                .is_some_and(|n| n.starts_with("axum_app::checkout::handler"))),
        "the handler is on the stack"
    );
    assert!(
        frames
            .iter()
            .filter(|f| f.package.as_deref().is_some_and(|p| [
                "tokio",
                "axum",
                "hyper",
                "std",
                "core",
                "mayday_reporter"
            ]
            .contains(&p)))
            .all(|f| f.in_app == Some(false)),
        "framework frames are not in-app"
    );
    // The panic machinery above the panic site is trimmed: the site is the top frame.
    assert_eq!(
        frames.last().and_then(|f| f.function.as_deref()),
        Some("axum_app::checkout::apply_coupon")
    );

    let user = event.user.as_ref().expect("user");
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(user.email.as_deref(), Some("jane@example.com"));
    assert_eq!(user.name.as_deref(), Some("Jane Doe"));
    assert_eq!(user.ip_address, None, "no IP unless opted in");

    let request = event.request.as_ref().expect("request");
    assert_eq!(request.method.as_deref(), Some("GET"));
    assert!(request.url.as_deref().unwrap().ends_with("/panic"));
    assert_eq!(
        request.query_string.as_deref(),
        Some("bundle=team&token=%5BFiltered%5D")
    );
    assert_eq!(request.headers.get("authorization"), Some("[Filtered]"));
    assert_eq!(
        request.headers.get("cookie"),
        Some("session=[Filtered]; theme=[Filtered]")
    );
    assert!(
        request
            .headers
            .get("user-agent")
            .unwrap()
            .contains("Firefox/86.0")
    );

    assert_eq!(event.transaction.as_deref(), Some("GET /panic"));
    let release = event.release.as_deref().unwrap();
    assert!(release.starts_with("axum-app@0.1.0"), "release {release}");
    assert!(event.server_name.as_deref().is_some_and(|s| !s.is_empty()));
    assert_eq!(event.environment.as_deref(), Some("test"));
    let contexts = event.contexts.as_ref().unwrap();
    assert_eq!(
        contexts.runtime.as_ref().unwrap().name.as_deref(),
        Some("rustc")
    );
    assert_eq!(contexts.other["framework"]["name"], "axum");
    assert_eq!(
        event.sdk.as_ref().unwrap().name.as_deref(),
        Some("mayday.rust")
    );
    let crumbs = &event.breadcrumbs.as_ref().expect("breadcrumbs").values;
    assert_eq!(
        crumbs[0].message.as_deref(),
        Some("applying coupon BLACKFRIDAY")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_route_reports_the_source_chain() {
    let receiver = Receiver::start().await;
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();
    let base = serve(&reporter).await;

    let response = get(&format!("{base}/error"), &[("x-demo-user", JANE)]).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("database"),
        "the client does not see the error text"
    );

    let event = single_event(&receiver, &reporter).await;
    assert_eq!(event.level, Some(Level::Error));
    let chain: Vec<_> = event
        .exceptions()
        .iter()
        .map(|e| (e.ty.clone().unwrap(), e.value.clone().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            (
                "DatabaseError".to_owned(),
                "database unavailable: connection pool timed out".to_owned()
            ),
            ("OrderError".to_owned(), "could not load order 7".to_owned()),
        ]
    );
    let outer = event.exceptions().last().unwrap();
    assert_eq!(outer.module.as_deref(), Some("axum_app::orders"));
    assert_eq!(
        outer.mechanism.as_ref().unwrap().ty.as_deref(),
        Some("http")
    );
    assert!(
        outer
            .stacktrace
            .as_ref()
            .is_some_and(|s| s.frames.iter().any(|f| f.in_app == Some(true))),
        "the error's backtrace reaches into the app"
    );
    assert_eq!(event.transaction.as_deref(), Some("GET /error"));
    assert_eq!(event.tags.as_ref().unwrap()["order.kind"], "archived");
    assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successful_requests_report_nothing() {
    let receiver = Receiver::start().await;
    let reporter = builder().dsn(receiver.dsn()).build().unwrap();
    let base = serve(&reporter).await;

    assert_eq!(get(&format!("{base}/"), &[]).await.status(), StatusCode::OK);
    let order = get(&format!("{base}/orders/7"), &[("x-demo-user", JANE)]).await;
    assert_eq!(order.status(), StatusCode::OK);
    assert_eq!(order.text().await.unwrap(), "order 7\n");
    assert_eq!(
        get(&format!("{base}/nope"), &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    assert!(reporter.flush(Duration::from_secs(5)).await);
    assert_eq!(reporter.stats().queued, 0);
    assert_eq!(receiver.hits(), 0);
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
        assert!(reporter.capture_message(format!("message {i}"), Level::Info));
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
    assert!(!reporter.capture_message("nowhere", Level::Error));
}

#[test]
fn invalid_dsn_is_a_clear_error() {
    let error = Reporter::builder(axum_app::build_info())
        .dsn("http://localhost/1")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("no public key"), "{error}");
}
