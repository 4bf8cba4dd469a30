//! The same checks on both demo apps, `examples/axum-app` (tower layer) and
//! `examples/actix-app` (actix-web middleware): the same failures must give the same
//! events. Real HTTP over loopback, reporting to a real receiver.

use std::time::Duration;

use mayday_protocol::{Event, Level};
use mayday_reporter::{Reporter, ReporterBuilder};
use mayday_tests::Receiver;
use reqwest::StatusCode;

const JANE: &str = "42:jane@example.com:Jane Doe";

#[derive(Debug, Clone, Copy)]
enum Example {
    Axum,
    Actix,
}

impl Example {
    fn name(self) -> &'static str {
        match self {
            Example::Axum => "axum-app",
            Example::Actix => "actix-app",
        }
    }

    fn crate_ident(self) -> &'static str {
        match self {
            Example::Axum => "axum_app",
            Example::Actix => "actix_app",
        }
    }

    fn framework(self) -> &'static str {
        match self {
            Example::Axum => "axum",
            Example::Actix => "actix-web",
        }
    }

    fn builder(self) -> ReporterBuilder {
        let info = match self {
            Example::Axum => axum_app::build_info(),
            Example::Actix => actix_app::build_info(),
        };
        Reporter::builder(info).environment("test")
    }

    /// Serves the demo app on an ephemeral port, on its own thread and runtime; returns
    /// its base URL.
    fn serve(self, reporter: &Reporter) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reporter = reporter.clone();
        std::thread::spawn(move || match self {
            Example::Axum => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    listener.set_nonblocking(true).unwrap();
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, axum_app::app(&reporter))
                        .await
                        .unwrap();
                });
            }
            Example::Actix => {
                actix_web::rt::System::new()
                    .block_on(async move { actix_app::server(listener, reporter).unwrap().await })
                    .unwrap();
            }
        });
        format!("http://{addr}")
    }
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

macro_rules! on_both {
    ($($check:ident),* $(,)?) => {
        mod with_axum {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(super::Example::Axum).await
                }
            )*
        }
        mod with_actix {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(super::Example::Actix).await
                }
            )*
        }
    };
}

on_both!(
    panic_answers_500_and_reports_the_panic_site_user_and_request,
    error_route_reports_the_source_chain,
    successful_requests_report_nothing,
);

async fn panic_answers_500_and_reports_the_panic_site_user_and_request(example: Example) {
    let receiver = Receiver::start().await;
    let reporter = example.builder().dsn(receiver.dsn()).build().unwrap();
    let base = example.serve(&reporter);

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
        Some(format!("{}::checkout::apply_coupon", example.crate_ident()).as_str())
    );
    assert_eq!(top_in_app.filename.as_deref(), Some("src/lib.rs"));
    assert!(
        top_in_app
            .abs_path
            .as_deref()
            .is_some_and(|p| p.ends_with(&format!("examples/{}/src/lib.rs", example.name())))
    );
    assert!(top_in_app.lineno.is_some_and(|l| l > 0));
    let handler = format!("{}::checkout::handler", example.crate_ident());
    assert!(
        frames.iter().any(|f| f
            .function
            .as_deref()
            .is_some_and(|n| n.starts_with(&handler))),
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
        Some(format!("{}::checkout::apply_coupon", example.crate_ident()).as_str())
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
    assert!(
        release.starts_with(&format!("{}@0.1.0", example.name())),
        "release {release}"
    );
    assert!(event.server_name.as_deref().is_some_and(|s| !s.is_empty()));
    assert_eq!(event.environment.as_deref(), Some("test"));
    let contexts = event.contexts.as_ref().unwrap();
    assert_eq!(
        contexts.runtime.as_ref().unwrap().name.as_deref(),
        Some("rustc")
    );
    assert_eq!(contexts.other["framework"]["name"], example.framework());
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

async fn error_route_reports_the_source_chain(example: Example) {
    let receiver = Receiver::start().await;
    let reporter = example.builder().dsn(receiver.dsn()).build().unwrap();
    let base = example.serve(&reporter);

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
    assert_eq!(
        outer.module.as_deref(),
        Some(format!("{}::orders", example.crate_ident()).as_str())
    );
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

async fn successful_requests_report_nothing(example: Example) {
    let receiver = Receiver::start().await;
    let reporter = example.builder().dsn(receiver.dsn()).build().unwrap();
    let base = example.serve(&reporter);

    assert_eq!(get(&format!("{base}/"), &[]).await.status(), StatusCode::OK);
    let order = get(&format!("{base}/orders/7"), &[("x-demo-user", JANE)]).await;
    assert_eq!(order.status(), StatusCode::OK);
    assert_eq!(order.text().await.unwrap(), "order 7\n");
    assert_eq!(
        get(&format!("{base}/nope"), &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    assert!(reporter.flush(Duration::from_secs(5)).await);
    // No event; the three requests counted, all answered (the 404 under no route).
    assert!(receiver.received().is_empty(), "no event");
    let sessions = receiver.sessions();
    assert_eq!(sessions.len(), 1, "one send of request counts at the flush");
    let counts: serde_json::Value =
        serde_json::from_slice(&sessions[0].envelope.items[0].payload).unwrap();
    let aggregates = counts["aggregates"].as_array().unwrap();
    let sum = |field: &str| -> u64 { aggregates.iter().filter_map(|a| a[field].as_u64()).sum() };
    assert_eq!(
        (sum("exited"), sum("errored"), sum("crashed")),
        (3, 0, 0),
        "{counts}"
    );
}
