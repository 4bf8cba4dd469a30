//! `Reported<E>` with the error types apps use: `anyhow::Error` (its context chain and
//! its own backtrace) and `Box<dyn Error + Send + Sync>`; the backtrace is where `?`
//! converted the error, not where it became a response.
//!
//! One test in this binary: it turns on `anyhow`'s backtraces through the environment
//! before any other thread runs.

use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use mayday_protocol::{Event, Frame};
use mayday_reporter::{BoxError, Reported, Reporter};
use mayday_tests::Receiver;

#[inline(never)]
fn load_coupon_limit() -> anyhow::Result<u32> {
    let limit: u32 = "forty"
        .parse()
        .context("reading the coupon limit from settings")?;
    Ok(limit)
}

async fn with_anyhow() -> Result<String, Reported<anyhow::Error>> {
    let limit = load_coupon_limit()?;
    Ok(format!("limit {limit}\n"))
}

#[inline(never)]
fn open_socket() -> Result<(), BoxError> {
    Err(Box::new(std::io::Error::other("socket closed by peer")))
}

async fn with_box() -> Result<String, Reported<BoxError>> {
    open_socket()?;
    Ok("connected\n".into())
}

#[derive(Debug)]
struct StockError;
impl std::fmt::Display for StockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stock went negative")
    }
}
impl std::error::Error for StockError {}

#[inline(never)]
fn reserve() -> Result<(), StockError> {
    Err(StockError)
}

async fn with_question_mark() -> Result<String, Reported<StockError>> {
    reserve()?;
    Ok("reserved\n".into())
}

fn in_app(event: &Event) -> Vec<&Frame> {
    let outer = event.exceptions().last().expect("an exception");
    let frames = &outer.stacktrace.as_ref().expect("a stack trace").frames;
    frames
        .iter()
        .rev()
        .filter(|f| f.in_app == Some(true))
        .collect()
}

fn function(frame: &Frame) -> &str {
    frame.function.as_deref().unwrap_or_default()
}

/// In a process of its own: the backtrace setting is read once per process.
#[test]
fn reported_errors_in_a_process_of_their_own() {
    crate::isolated(
        "errors::reported_errors_carry_their_chain_and_where_they_came_from",
        &[("RUST_LIB_BACKTRACE", "1")],
    );
}

#[test]
#[ignore = "needs a process of its own; run by the test above"]
fn reported_errors_carry_their_chain_and_where_they_came_from() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let receiver = Receiver::start().await;
        let reporter = Reporter::builder(mayday_reporter::build_info!())
            .dsn(receiver.dsn())
            .build()
            .unwrap();
        let app = Router::new()
            .route("/anyhow", get(with_anyhow))
            .route("/box", get(with_box))
            .route("/typed", get(with_question_mark))
            .layer(reporter.layer());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        for path in ["anyhow", "box", "typed"] {
            let response = reqwest::get(format!("{base}/{path}")).await.unwrap();
            assert_eq!(response.status(), 500);
            assert_eq!(response.text().await.unwrap(), "Internal Server Error");
        }
        assert!(reporter.flush(Duration::from_secs(10)).await);
        let events: Vec<Event> = receiver.received().iter().map(|r| r.event()).collect();
        let by_path = |path: &str| {
            events
                .iter()
                .find(|e| e.transaction.as_deref() == Some(&format!("GET /{path}")))
                .unwrap_or_else(|| panic!("an event for /{path}"))
        };

        // anyhow: the context chain, innermost cause first, and anyhow's own backtrace,
        // taken where the error was made (inside `load_coupon_limit`).
        let event = by_path("anyhow");
        let values: Vec<&str> = event
            .exceptions()
            .iter()
            .filter_map(|e| e.value.as_deref())
            .collect();
        assert_eq!(
            values,
            [
                "invalid digit found in string",
                "reading the coupon limit from settings"
            ]
        );
        let frames = in_app(event);
        assert!(
            function(frames[0]).ends_with("load_coupon_limit"),
            "innermost in-app frame: {:?}",
            frames[0]
        );

        // Box<dyn Error>: the boxed error's text, and the `?` in `with_box`.
        let event = by_path("box");
        assert_eq!(
            event.exceptions()[0].value.as_deref(),
            Some("socket closed by peer")
        );
        let frames = in_app(event);
        assert!(
            function(frames[0]).contains("with_box"),
            "the ? site: {:?}",
            frames[0]
        );

        // A typed error: named exactly, and the `?` site is the innermost in-app frame
        // (not `into_response`, not the reporter's `From`).
        let event = by_path("typed");
        let outer = event.exceptions().last().unwrap();
        assert_eq!(outer.ty.as_deref(), Some("StockError"));
        let frames = in_app(event);
        assert!(
            function(frames[0]).contains("with_question_mark"),
            "the ? site: {:?}",
            frames[0]
        );
        for frame in frames {
            assert!(!function(frame).contains("mayday_reporter"), "{frame:?}");
        }
    });
}
