//! What the layer counts per route: an answer (200), a 5xx, a panic, a request whose
//! client went away before the answer (neither), and a long-lived stream (counted when
//! its response starts, not when it ends).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::get;
use tower::ServiceExt;

use crate::Reporter;
use crate::request_counts::Taken;

fn reporter(counts: bool) -> Reporter {
    Reporter::builder(crate::build_info!())
        // Nothing listens there: nothing is sent during the test.
        .dsn("http://public@127.0.0.1:9/1")
        .request_counts(counts)
        .build()
        .expect("reporter")
}

fn app(reporter: &Reporter) -> Router {
    Router::new()
        .route("/orders/{id}", get(|| async { "order" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("checkout broke");
                }
                "never"
            }),
        )
        .route(
            "/slow",
            get(|| async {
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route(
            "/events",
            get(|| async {
                // A stream that never ends, as server-sent events.
                Body::new(Never)
            }),
        )
        .layer(reporter.layer())
}

/// A body that never yields a frame.
struct Never;

impl http_body::Body for Never {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Pending
    }
}

async fn get_status(app: &Router, path: &str) -> StatusCode {
    let request = Request::get(path).body(Body::empty()).expect("request");
    app.clone()
        .oneshot(request)
        .await
        .expect("infallible")
        .status()
}

fn route(taken: &[Taken], route: &str) -> (u64, u64, u64) {
    taken
        .iter()
        .find(|t| t.route == route)
        .map_or((0, 0, 0), |t| (t.ok, t.errored, t.crashed))
}

#[tokio::test]
async fn answers_5xx_and_panics_count_per_route_template() {
    let reporter = reporter(true);
    let app = app(&reporter);
    for id in 0..3 {
        assert_eq!(get_status(&app, &format!("/orders/{id}")).await, 200);
    }
    assert_eq!(get_status(&app, "/fail").await, 503);
    assert_eq!(get_status(&app, "/panic").await, 500);
    assert_eq!(get_status(&app, "/nowhere").await, 404);

    let taken = reporter.take_request_counts();
    assert_eq!(route(&taken, "GET /orders/{id}"), (3, 0, 0), "{taken:?}");
    assert_eq!(route(&taken, "GET /fail"), (0, 1, 0));
    assert_eq!(
        route(&taken, "GET /panic"),
        (0, 0, 1),
        "a panic is a crash only"
    );
    // Taken once: the next send starts from zero.
    assert!(reporter.take_request_counts().is_empty());
}

#[tokio::test]
async fn a_request_dropped_before_its_answer_counts_as_neither() {
    let reporter = reporter(true);
    let app = app(&reporter);
    {
        let request = Request::get("/slow").body(Body::empty()).expect("request");
        let mut future = pin!(app.clone().oneshot(request));
        // Polled once (the handler starts and waits), then dropped: the client left.
        let polled = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending());
    }
    assert_eq!(reporter.take_request_counts(), Vec::new());
}

#[tokio::test]
async fn a_stream_counts_when_its_response_starts() {
    let reporter = reporter(true);
    let app = app(&reporter);
    let request = Request::get("/events")
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
    // The body is still open (it never ends), and the request is counted already.
    assert_eq!(
        route(&reporter.take_request_counts(), "GET /events"),
        (1, 0, 0)
    );
    drop(response);
    assert!(reporter.take_request_counts().is_empty(), "counted once");
}

#[tokio::test]
async fn nothing_is_counted_when_turned_off() {
    let reporter = reporter(false);
    let app = app(&reporter);
    assert_eq!(get_status(&app, "/orders/1").await, 200);
    assert_eq!(get_status(&app, "/panic").await, 500);
    assert!(reporter.take_request_counts().is_empty());
}
