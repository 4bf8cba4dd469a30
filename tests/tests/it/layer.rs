//! The reporter layer's options and edge cases, on small routers served over loopback.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use mayday_protocol::{Event, Level};
use mayday_reporter::{ErrorReport, Reporter, Scope};
use mayday_tests::Receiver;
use tower::Layer;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn reporter_and_receiver() -> (Reporter, Receiver) {
    let receiver = Receiver::start().await;
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    (reporter, receiver)
}

async fn events(reporter: &Reporter, receiver: &Receiver) -> Vec<Event> {
    assert!(reporter.flush(Duration::from_secs(10)).await);
    receiver.received().iter().map(|r| r.event()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_call_itself_is_caught_and_answered() {
    let (reporter, receiver) = reporter_and_receiver().await;
    // `call` panics before it returns a future.
    let service = reporter.layer().layer(tower::service_fn(
        |_request: axum::extract::Request| -> std::future::Ready<Result<Response<Body>, Infallible>> {
            panic!("routing table corrupt")
        },
    ));
    let base = serve(Router::new().route_service("/call", service)).await;
    let response = reqwest::get(format!("{base}/call")).await.unwrap();
    assert_eq!(response.status(), 500);
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, Some(Level::Fatal));
    assert_eq!(
        events[0].exceptions()[0].value.as_deref(),
        Some("routing table corrupt")
    );
}

async fn boom() -> &'static str {
    panic!("boom")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panic_response_is_configurable() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let layer = reporter.layer().panic_response(|| {
        let mut response = Response::new(Bytes::from_static(br#"{"error":"internal"}"#));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        response
    });
    let app = Router::new().route("/boom", get(boom)).layer(layer);
    let base = serve(app).await;
    let response = reqwest::get(format!("{base}/boom")).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), r#"{"error":"internal"}"#);
    assert_eq!(events(&reporter, &receiver).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_predicate_decides_what_is_reported() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route("/gone", get(|| async { StatusCode::GONE }))
        .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .layer(
            reporter
                .layer()
                .report_status(|status| status == StatusCode::GONE),
        );
    let base = serve(app).await;
    assert_eq!(
        reqwest::get(format!("{base}/gone")).await.unwrap().status(),
        410
    );
    assert_eq!(
        reqwest::get(format!("{base}/down")).await.unwrap().status(),
        503
    );
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message_text(), Some("HTTP 410 on GET /gone"));
}

#[derive(Debug)]
struct Upstream;
impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inventory service timed out")
    }
}
impl std::error::Error for Upstream {}

/// An app's own error type that hands itself to the layer with `ErrorReport`.
struct AppError(Upstream);
impl IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let mut response = (StatusCode::BAD_GATEWAY, "try again later").into_response();
        ErrorReport::new(&self.0).attach(&mut response);
        response
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_report_extension_carries_the_error() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route("/stock", get(|| async { Err::<(), _>(AppError(Upstream)) }))
        .layer(reporter.layer());
    let base = serve(app).await;
    let response = reqwest::get(format!("{base}/stock")).await.unwrap();
    assert_eq!(response.status(), 502);
    let events = events(&reporter, &receiver).await;
    let exception = &events[0].exceptions()[0];
    assert_eq!(exception.ty.as_deref(), Some("Upstream"));
    assert_eq!(
        exception.value.as_deref(),
        Some("inventory service timed out")
    );
    let data = exception.mechanism.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(data["status_code"], 502);
}

/// Deep in the app, far from the handler's arguments.
fn record_cart(size: usize) {
    let scope = Scope::current().expect("inside a request");
    scope.set_tag("cart.size", size.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_current_reaches_deep_code_and_captures_keep_the_request() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route(
            "/cart",
            get(|scope: Scope| async move {
                record_cart(3);
                scope.capture_message("cart looked odd", Level::Warning);
                "ok"
            }),
        )
        .layer(reporter.layer());
    let base = serve(app).await;
    let response = reqwest::get(format!("{base}/cart?coupon=X")).await.unwrap();
    assert_eq!(response.status(), 200);
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.level, Some(Level::Warning));
    assert_eq!(event.tags.as_ref().unwrap()["cart.size"], "3");
    assert_eq!(event.transaction.as_deref(), Some("GET /cart"));
    assert_eq!(
        event.request.as_ref().unwrap().query_string.as_deref(),
        Some("coupon=X")
    );
    assert!(Scope::current().is_none(), "no scope outside requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_keep_their_own_scope() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route(
            "/work/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>, scope: Scope| async move {
                    scope.add_breadcrumb("work", format!("start {n}"));
                    tokio::time::sleep(Duration::from_millis(u64::from(n % 7))).await;
                    scope.set_tag("n", n.to_string());
                    tokio::task::yield_now().await;
                    scope.add_breadcrumb("work", format!("end {n}"));
                    StatusCode::INTERNAL_SERVER_ERROR
                },
            ),
        )
        .layer(reporter.layer());
    let base = serve(app).await;
    let client = reqwest::Client::new();
    let requests = (0..40).map(|n| {
        let client = client.clone();
        let url = format!("{base}/work/{n}");
        tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
    });
    for request in requests {
        assert_eq!(request.await.unwrap(), 500);
    }
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 40);
    for event in events {
        let n = &event.tags.as_ref().unwrap()["n"];
        let crumbs: Vec<_> = event
            .breadcrumbs
            .as_ref()
            .unwrap()
            .values
            .iter()
            .map(|b| b.message.clone().unwrap())
            .collect();
        assert_eq!(crumbs, [format!("start {n}"), format!("end {n}")]);
        assert!(
            event
                .request
                .as_ref()
                .unwrap()
                .url
                .as_deref()
                .unwrap()
                .ends_with(&format!("/work/{n}"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_resolver_and_send_ip() {
    let receiver = Receiver::start().await;
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(receiver.dsn())
        .send_ip(true)
        .build()
        .unwrap();
    let layer = reporter.layer().user(|_extensions, headers| {
        headers
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .map(|id| mayday_reporter::User {
                id: Some(id.to_owned()),
                ..Default::default()
            })
    });
    let app = Router::new()
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(layer);
    let base = serve(app).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/fail"))
        .header("x-user", "u-9")
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let events = events(&reporter, &receiver).await;
    let user = events[0].user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("u-9"));
    assert_eq!(user.ip_address.as_deref(), Some("203.0.113.7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_carry_the_request_scope() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let layer = reporter.layer().user(|_extensions, headers| {
        headers
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .map(|id| mayday_reporter::User {
                id: Some(id.to_owned()),
                ..Default::default()
            })
    });
    let app = Router::new()
        .route(
            "/async-work",
            get(|scope: Scope| async move {
                scope.add_breadcrumb("work", "queued the receipt");
                // A detached task: the request is answered before it runs.
                mayday_reporter::spawn(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Scope::current()
                        .expect("the request's scope, carried into the task")
                        .capture_message("receipt printer offline", Level::Warning);
                    panic!("receipt task crashed");
                });
                "accepted"
            }),
        )
        .route(
            "/blocking-work",
            get(|scope: Scope| async move {
                scope.add_breadcrumb("work", "resizing the photo");
                // Work on tokio's blocking pool, awaited: its panic is the request's.
                let resized = mayday_reporter::spawn_blocking(|| {
                    Scope::current()
                        .expect("the request's scope, carried onto the blocking thread")
                        .capture_message("photo is very large", Level::Warning);
                    panic!("resizer crashed");
                })
                .await;
                assert!(resized.is_err());
                "resized"
            }),
        )
        .layer(layer);
    let base = serve(app).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/async-work"))
        .header("x-user", "u-77")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 2, "the message and the panic");
    for event in received.iter().map(|r| r.event()) {
        assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("u-77"));
        assert_eq!(event.transaction.as_deref(), Some("GET /async-work"));
        let crumbs = &event.breadcrumbs.as_ref().unwrap().values;
        assert_eq!(crumbs[0].message.as_deref(), Some("queued the receipt"));
    }
    let panic = received
        .iter()
        .map(|r| r.event())
        .find(|e| e.level == Some(Level::Fatal))
        .expect("the task's panic");
    assert_eq!(
        panic.exceptions()[0].value.as_deref(),
        Some("receipt task crashed")
    );

    // The same through spawn_blocking.
    let response = reqwest::Client::new()
        .get(format!("{base}/blocking-work"))
        .header("x-user", "u-78")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let received = receiver.wait_for(4, Duration::from_secs(10)).await;
    let blocking: Vec<_> = received
        .iter()
        .map(|r| r.event())
        .filter(|e| e.transaction.as_deref() == Some("GET /blocking-work"))
        .collect();
    assert_eq!(blocking.len(), 2, "the message and the panic");
    for event in &blocking {
        assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("u-78"));
        let crumbs = &event.breadcrumbs.as_ref().unwrap().values;
        assert_eq!(crumbs[0].message.as_deref(), Some("resizing the photo"));
    }
    assert!(blocking.iter().any(|e| e.level == Some(Level::Fatal)
        && e.exceptions()[0].value.as_deref() == Some("resizer crashed")));
}

async fn caught_inside() -> Response<Body> {
    // Code inside the layer catches a panic and answers 500 itself.
    let outcome = std::panic::catch_unwind(|| -> u32 { panic!("ledger out of balance") });
    match outcome {
        Ok(_) => Response::new(Body::from("fine")),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_caught_inside_the_layer_is_reported_as_the_panic() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route("/caught", get(caught_inside))
        // tower-http's CatchPanicLayer inside ours answers the panic with its own 500.
        .route(
            "/inner-layer",
            get(boom).layer(tower_http::catch_panic::CatchPanicLayer::new()),
        )
        .layer(reporter.layer());
    let base = serve(app).await;
    for path in ["caught", "inner-layer"] {
        let response = reqwest::get(format!("{base}/{path}")).await.unwrap();
        assert_eq!(response.status(), 500, "{path}");
        assert!(response.headers().contains_key("x-mayday-event-id"));
    }
    let mut events = events(&reporter, &receiver).await;
    events.sort_by_key(|e| e.transaction.clone());
    assert_eq!(events.len(), 2);
    for (event, value) in events.iter().zip(["ledger out of balance", "boom"]) {
        assert_eq!(event.level, Some(Level::Fatal), "{event:?}");
        let exception = &event.exceptions()[0];
        assert_eq!(exception.ty.as_deref(), Some("panic"));
        assert_eq!(exception.value.as_deref(), Some(value));
        assert!(exception.stacktrace.is_some(), "the panic site's backtrace");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_reporter_still_answers_a_panic_with_500() {
    let reporter = Reporter::disabled();
    let base = serve(
        Router::new()
            .route("/boom", get(boom))
            .layer(reporter.layer()),
    )
    .await;
    let response = reqwest::get(format!("{base}/boom"))
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status(), 500);
    assert!(!response.headers().contains_key("x-mayday-event-id"));
    assert_eq!(response.text().await.unwrap(), "Internal Server Error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_id_header_names_the_reported_event() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route("/boom", get(boom))
        .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route("/ok", get(|| async { "fine" }))
        .layer(reporter.layer());
    let renamed = Router::new().route("/boom", get(boom)).layer(
        reporter
            .layer()
            .event_id_header(Some(http::HeaderName::from_static("x-error-ref"))),
    );
    let quiet = Router::new()
        .route("/boom", get(boom))
        .layer(reporter.layer().event_id_header(None));
    let (base, renamed, quiet) = (serve(app).await, serve(renamed).await, serve(quiet).await);

    let mut ids = Vec::new();
    for path in ["boom", "down"] {
        let response = reqwest::get(format!("{base}/{path}")).await.unwrap();
        ids.push(
            response.headers()["x-mayday-event-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    let ok = reqwest::get(format!("{base}/ok")).await.unwrap();
    assert!(!ok.headers().contains_key("x-mayday-event-id"));
    let response = reqwest::get(format!("{renamed}/boom")).await.unwrap();
    ids.push(
        response.headers()["x-error-ref"]
            .to_str()
            .unwrap()
            .to_owned(),
    );
    let response = reqwest::get(format!("{quiet}/boom")).await.unwrap();
    assert_eq!(response.status(), 500);
    assert!(!response.headers().contains_key("x-mayday-event-id"));

    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 4);
    let stored: Vec<String> = events
        .iter()
        .filter_map(|e| e.event_id.map(|id| id.to_string()))
        .collect();
    for id in &ids {
        assert!(stored.contains(id), "{id} in {stored:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_layers_report_a_failure_once() {
    let (reporter, receiver) = reporter_and_receiver().await;
    let app = Router::new()
        .route("/boom", get(boom).layer(reporter.layer()))
        .route(
            "/down",
            get(|| async { StatusCode::BAD_GATEWAY }).layer(reporter.layer()),
        )
        .layer(reporter.layer());
    let base = serve(app).await;
    for path in ["boom", "down"] {
        assert!(
            reqwest::get(format!("{base}/{path}"))
                .await
                .unwrap()
                .status()
                .is_server_error()
        );
    }
    assert_eq!(events(&reporter, &receiver).await.len(), 2);
}

#[derive(Debug)]
struct BackendDown;
impl std::fmt::Display for BackendDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("backend connection refused")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_err_from_the_inner_service_is_reported() {
    use tower::ServiceExt;
    let (reporter, receiver) = reporter_and_receiver().await;
    let service = reporter
        .layer()
        .layer(tower::service_fn(|_request: http::Request<()>| async {
            Err::<Response<Body>, _>(BackendDown)
        }));
    let request = http::Request::get("/proxy/orders").body(()).unwrap();
    let result = service.oneshot(request).await;
    assert!(result.is_err(), "the error goes on to the server");
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 1);
    let exception = &events[0].exceptions()[0];
    assert_eq!(exception.ty.as_deref(), Some("BackendDown"));
    assert_eq!(
        exception.value.as_deref(),
        Some("backend connection refused")
    );
    assert_eq!(events[0].transaction.as_deref(), Some("GET /proxy/orders"));
}

/// A body type of its own (as gRPC servers have): only `Default`, no `From<Bytes>`.
#[derive(Debug, Default, PartialEq)]
struct GrpcBody(Vec<u8>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_with_their_own_body_type_are_wrapped_and_panics_answered() {
    use tower::ServiceExt;
    let (reporter, receiver) = reporter_and_receiver().await;
    let service =
        reporter
            .layer()
            .layer(tower::service_fn(|request: http::Request<()>| async move {
                if request.uri().path() == "/shop.Cart/Checkout" {
                    panic!("cart service crashed");
                }
                Ok::<_, Infallible>(Response::new(GrpcBody(b"ok".to_vec())))
            }));
    let ok = service
        .clone()
        .oneshot(http::Request::post("/shop.Cart/List").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(ok.into_body(), GrpcBody(b"ok".to_vec()));
    let crashed = service
        .oneshot(http::Request::post("/shop.Cart/Checkout").body(()).unwrap())
        .await
        .unwrap();
    assert_eq!(crashed.status(), 500);
    assert_eq!(
        crashed.body(),
        &GrpcBody::default(),
        "an empty body of its type"
    );
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].exceptions()[0].value.as_deref(),
        Some("cart service crashed")
    );
}

/// With `capture_body`, the JSON or form body a handler read goes with its failure's
/// event, sensitive fields filtered; the handler gets every byte; without it (the
/// default), no body is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_are_kept_only_when_asked_and_scrubbed() {
    use mayday_reporter::BodyCapture;
    let (reporter, receiver) = reporter_and_receiver().await;
    let checkout = || {
        Router::new().route(
            "/checkout",
            axum::routing::post(|body: Bytes| async move {
                // The handler reads all of it, then fails on what it read.
                let order: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let items = order["items"].as_array().unwrap().len();
                if items > 2 {
                    panic!("{items} items is more than the cart takes");
                }
                "ok"
            }),
        )
    };
    let with = serve(
        checkout().layer(
            reporter
                .layer()
                .capture_body(BodyCapture::Json { max_bytes: 4096 }),
        ),
    )
    .await;
    let without = serve(checkout().layer(reporter.layer())).await;
    let order = serde_json::json!({
        "coupon": "BLACKFRIDAY",
        "card": {"number": "4111 1111 1111 1111", "cvv": "123"},
        "password": "hunter2",
        "items": [{"sku": "a"}, {"sku": "b"}, {"sku": "c", "token": "t-1"}]
    });
    for base in [&with, &without] {
        let response = reqwest::Client::new()
            .post(format!("{base}/checkout"))
            .header("content-type", "application/json")
            .body(order.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
    }
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 2);
    let data: Vec<_> = events
        .iter()
        .map(|e| e.request.as_ref().unwrap().other.get("data").cloned())
        .collect();
    let kept = data.iter().flatten().next().expect("the body, once");
    assert_eq!(
        data.iter().flatten().count(),
        1,
        "only the layer that asked"
    );
    assert_eq!(kept["coupon"], "BLACKFRIDAY");
    assert_eq!(kept["password"], "[Filtered]");
    assert_eq!(kept["card"], "[Filtered]");
    assert_eq!(kept["items"][2]["token"], "[Filtered]");
    assert_eq!(kept["items"][1]["sku"], "b");

    // Binary bodies are never kept.
    let upload = serve(
        Router::new()
            .route(
                "/upload",
                axum::routing::post(|body: Bytes| async move {
                    panic!("{} bytes of image", body.len());
                    #[allow(unreachable_code)]
                    ""
                }),
            )
            .layer(
                reporter
                    .layer()
                    .capture_body(BodyCapture::Json { max_bytes: 4096 }),
            ),
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{upload}/upload"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let events = self::events(&reporter, &receiver).await;
    let upload_event = events
        .iter()
        .find(|e| e.transaction.as_deref() == Some("POST /upload"))
        .unwrap();
    assert!(
        upload_event
            .request
            .as_ref()
            .unwrap()
            .other
            .get("data")
            .is_none()
    );
}
