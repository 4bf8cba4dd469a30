//! What the app controls about reporting: `before_send`, sampling, ignore lists, storm
//! control, and delivery before exit (`flush_blocking`, the flush guard).
//!
//! Only explicit captures and handled panics here (no detached panics), so that each
//! test counts exactly what its own reporter sent.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use mayday_protocol::{Event, Level};
use mayday_reporter::{Reporter, ReporterBuilder};
use mayday_tests::Receiver;

fn builder(receiver: &Receiver) -> ReporterBuilder {
    Reporter::builder(mayday_reporter::build_info!()).dsn(receiver.dsn())
}

async fn events(reporter: &Reporter, receiver: &Receiver) -> Vec<Event> {
    assert!(
        reporter.flush(Duration::from_secs(10)).await,
        "flush in time"
    );
    receiver.received().iter().map(|r| r.event()).collect()
}

#[derive(Debug)]
struct Timeout;
impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("upstream timed out")
    }
}
impl std::error::Error for Timeout {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_send_changes_or_drops_events() {
    let receiver = Receiver::start().await;
    let reporter = builder(&receiver)
        .before_send(|mut event| {
            if event.message_text() == Some("health check failed") {
                return None;
            }
            event
                .tags
                .get_or_insert_with(Default::default)
                .insert("team".into(), "checkout".into());
            Some(event)
        })
        .build()
        .unwrap();
    reporter.capture_message("health check failed", Level::Error);
    reporter.capture_message("payment declined", Level::Error);
    let events = events(&reporter, &receiver).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message_text(), Some("payment declined"));
    assert_eq!(events[0].tags.as_ref().unwrap()["team"], "checkout");
    assert_eq!(reporter.stats().filtered, 1);
}

async fn client_went_away() -> &'static str {
    panic!("client went away mid-stream")
}

async fn negative_stock() -> &'static str {
    panic!("negative stock")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_and_ignore_lists_leave_failures_out() {
    let receiver = Receiver::start().await;
    let none = builder(&receiver).sample_rate(0.0).build().unwrap();
    for i in 0..5 {
        none.capture_message(format!("sampled {i}"), Level::Error);
    }
    assert!(none.flush(Duration::from_secs(10)).await);
    assert_eq!(receiver.hits(), 0);
    assert_eq!(none.stats().filtered, 5);

    let picky = builder(&receiver)
        .ignore_error("Timeout")
        .ignore_panic("client went away")
        .build()
        .unwrap();
    picky.capture_error(&Timeout);
    picky.capture_error(&std::io::Error::other("disk full"));
    let app = Router::new()
        .route("/gone", get(client_went_away))
        .route("/bug", get(negative_stock))
        .layer(picky.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["gone", "bug"] {
        let response = reqwest::get(format!("{base}/{path}")).await.unwrap();
        assert_eq!(
            response.status(),
            500,
            "ignored or not, the user gets an answer"
        );
    }
    let events = events(&picky, &receiver).await;
    let texts: Vec<String> = events
        .iter()
        .map(|e| e.exceptions()[0].value.clone().unwrap_or_default())
        .collect();
    assert_eq!(events.len(), 2, "{texts:?}");
    assert!(texts.contains(&"disk full".to_owned()));
    assert!(texts.contains(&"negative stock".to_owned()));
    assert_eq!(picky.stats().filtered, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_one_failure_is_summarized_with_its_count() {
    let receiver = Receiver::start().await;
    let reporter = builder(&receiver).storm_limit(3).build().unwrap();
    for _ in 0..20 {
        reporter.capture_error(&Timeout);
    }
    reporter.capture_message("another failure", Level::Error);
    let events = events(&reporter, &receiver).await;
    let timeouts: Vec<&Event> = events
        .iter()
        .filter(|e| !e.exceptions().is_empty())
        .collect();
    assert_eq!(timeouts.len(), 4, "three as they came, then one summary");
    let repeated: Vec<u64> = timeouts
        .iter()
        .filter_map(|e| e.extra.as_ref()?.get("mayday.repeated")?.as_u64())
        .collect();
    assert_eq!(repeated, [17], "the summary counts the held-back ones");
    assert!(
        events
            .iter()
            .any(|e| e.message_text() == Some("another failure")),
        "other failures are not held back"
    );
    let stats = reporter.stats();
    assert_eq!(stats.suppressed, 17);
    assert_eq!(stats.sent, 5);
}

#[test]
fn flush_blocking_and_the_guard_deliver_before_exit() {
    // No async runtime in this test: the way a sync `main` would use it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(Receiver::start());
    let reporter = builder(&receiver).build().unwrap();
    reporter.capture_message("from sync code", Level::Warning);
    assert!(reporter.flush_blocking(Duration::from_secs(10)));
    assert_eq!(receiver.hits(), 1);
    {
        let _guard = reporter.guard(Duration::from_secs(10));
        reporter.capture_message("just before exit", Level::Error);
    }
    assert_eq!(receiver.hits(), 2, "the guard flushed when dropped");
    // A reporter that reports nowhere flushes at once.
    assert!(Reporter::disabled().flush_blocking(Duration::from_secs(1)));
}
