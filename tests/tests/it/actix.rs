//! The actix-web middleware on small apps: routes named in status events, `ResponseError`s
//! reported, the user resolver.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use mayday_reporter::Reporter;
use mayday_tests::Receiver;

#[derive(Debug)]
struct InventoryDown;

impl std::fmt::Display for InventoryDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inventory service is down")
    }
}

impl ResponseError for InventoryDown {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn boom() -> &'static str {
    panic!("inventory table corrupt")
}

fn serve(reporter: Reporter) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new()
            .block_on(async move {
                HttpServer::new(move || {
                    App::new()
                        .route(
                            "/orders/{id}",
                            web::get().to(|| async { HttpResponse::BadGateway().body("upstream") }),
                        )
                        .route(
                            "/stock/{sku}",
                            web::get().to(|| async { Err::<String, _>(InventoryDown) }),
                        )
                        .route("/ok", web::get().to(|| async { "ok" }))
                        .route("/boom", web::get().to(boom))
                        .wrap(reporter.actix().user(|request| {
                            request
                                .headers()
                                .get("x-user")
                                .and_then(|v| v.to_str().ok())
                                .map(|id| mayday_reporter::User {
                                    id: Some(id.to_owned()),
                                    ..Default::default()
                                })
                        }))
                })
                .workers(1)
                .listen(listener)?
                .run()
                .await
            })
            .unwrap();
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_events_name_the_route_and_response_errors_are_reported() {
    let receiver = Receiver::start().await;
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    let base = serve(reporter.clone());
    let client = reqwest::Client::new();
    for (path, status) in [("/orders/9", 502), ("/stock/abc", 503), ("/ok", 200)] {
        let response = client
            .get(format!("{base}{path}"))
            .header("x-user", "u-5")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    assert!(reporter.flush(Duration::from_secs(10)).await);
    let events: Vec<_> = receiver.received().iter().map(|r| r.event()).collect();
    assert_eq!(events.len(), 2, "the 200 is not reported");
    let gateway = events
        .iter()
        .find(|e| e.message_text().is_some())
        .expect("the 502");
    assert_eq!(gateway.message_text(), Some("HTTP 502 on GET /orders/{id}"));
    assert_eq!(gateway.transaction.as_deref(), Some("GET /orders/{id}"));
    assert_eq!(gateway.user.as_ref().unwrap().id.as_deref(), Some("u-5"));
    let stock = events
        .iter()
        .find(|e| !e.exceptions().is_empty())
        .expect("the 503");
    let exception = &stock.exceptions()[0];
    assert_eq!(exception.ty.as_deref(), Some("InventoryDown"));
    assert_eq!(
        exception.value.as_deref(),
        Some("inventory service is down")
    );
    assert_eq!(stock.transaction.as_deref(), Some("GET /stock/{sku}"));
    assert_eq!(
        stock.contexts.as_ref().unwrap().other["framework"]["name"],
        "actix-web"
    );
}

#[test]
fn the_middleware_can_be_configured_after_it_was_cloned() {
    let reporter = Reporter::disabled();
    let middleware = reporter.actix();
    let shared = middleware.clone();
    // Each copy is configured on its own; none panics.
    let with_user = middleware
        .user(|_| None)
        .report_status(|status| status >= 500);
    let quiet = shared.clone().event_id_header(None);
    drop((with_user, quiet, shared));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_middleware_still_answers_a_panic_with_500() {
    let base = serve(Reporter::disabled());
    let response = reqwest::get(format!("{base}/boom"))
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status(), 500);
    assert!(!response.headers().contains_key("x-mayday-event-id"));
}

/// The middleware keeps a form body the handler read, scrubbed, when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_keeps_form_bodies_when_asked() {
    let receiver = Receiver::start().await;
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let middleware = reporter
        .actix()
        .capture_body(mayday_reporter::BodyCapture::Json { max_bytes: 1024 });
    std::thread::spawn(move || {
        actix_web::rt::System::new()
            .block_on(async move {
                HttpServer::new(move || {
                    App::new()
                        .route(
                            "/signup",
                            web::post().to(|body: web::Bytes| async move {
                                // Every byte reached the handler.
                                assert!(body.ends_with(b"plan=team"));
                                HttpResponse::InternalServerError().body("mail server down")
                            }),
                        )
                        .wrap(middleware.clone())
                })
                .workers(1)
                .listen(listener)?
                .run()
                .await
            })
            .unwrap();
    });
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/signup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=jane%40example.com&password=hunter2&plan=team")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert!(reporter.flush(Duration::from_secs(10)).await);
    let event = receiver.received()[0].event();
    let data = &event.request.as_ref().unwrap().other["data"];
    assert_eq!(data["email"], "jane@example.com");
    assert_eq!(data["password"], "[Filtered]");
    assert_eq!(data["plan"], "team");
}
