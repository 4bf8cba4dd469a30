//! What the actix-web middleware counts per route: answers, 5xx and panics, by the
//! route's pattern.

use actix_web::{App, HttpResponse, test, web};

use crate::Reporter;

#[actix_web::test]
async fn answers_5xx_and_panics_count_per_route_pattern() {
    let reporter = Reporter::builder(crate::build_info!())
        // Nothing listens there: nothing is sent during the test.
        .dsn("http://public@127.0.0.1:9/1")
        .build()
        .expect("reporter");
    let app = test::init_service(
        App::new()
            .wrap(reporter.actix())
            .route("/orders/{id}", web::get().to(|| async { "order" }))
            .route(
                "/fail",
                web::get().to(|| async { HttpResponse::ServiceUnavailable().finish() }),
            )
            .route(
                "/panic",
                web::get().to(|| async {
                    if true {
                        panic!("checkout broke");
                    }
                    "never"
                }),
            ),
    )
    .await;
    for path in ["/orders/1", "/orders/2", "/fail", "/panic"] {
        let request = test::TestRequest::get().uri(path).to_request();
        // A panic comes back as an error actix-web renders as a 500.
        let status = match test::try_call_service(&app, request).await {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        let expected = match path {
            "/fail" => 503,
            "/panic" => 500,
            _ => 200,
        };
        assert_eq!(status, expected, "{path}");
    }
    let taken = reporter.take_request_counts();
    let route = |name: &str| {
        taken
            .iter()
            .find(|t| t.route == name)
            .map(|t| (t.ok, t.errored, t.crashed))
    };
    assert_eq!(route("GET /orders/{id}"), Some((2, 0, 0)), "{taken:?}");
    assert_eq!(route("GET /fail"), Some((0, 1, 0)), "{taken:?}");
    assert_eq!(route("GET /panic"), Some((0, 0, 1)), "{taken:?}");
}
