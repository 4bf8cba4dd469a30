//! The reporter against a real collector that refuses its key, and against a collector
//! that is down: each says so once (a `tracing` warning naming the problem), then stays
//! quiet however many events follow. In a process of its own (`common::isolated`): it
//! installs the process's tracing subscriber to read the warnings.

use crate::common;

use std::sync::Mutex;
use std::time::Duration;

use mayday_reporter::{Level, Reporter};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Warnings logged in this process: (message, fields).
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Collect;

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Collect {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut text = Text(String::new());
            event.record(&mut text);
            WARNINGS.lock().unwrap().push(text.0);
        }
    }
}

fn warnings_with(needle: &str) -> Vec<String> {
    WARNINGS
        .lock()
        .unwrap()
        .iter()
        .filter(|w| w.contains(needle))
        .cloned()
        .collect()
}

#[test]
fn reporter_warnings_in_a_process_of_their_own() {
    common::isolated(
        "reporter_warnings::a_refused_key_and_a_collector_down_are_each_said_once",
        &[],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a process of its own; run by the test above"]
async fn a_refused_key_and_a_collector_down_are_each_said_once() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Collect))
        .expect("the only subscriber of this process");

    // A real collector, and a DSN whose key it does not know.
    let db = common::sqlite();
    let server = common::TestServer::start(&db, &[]).await;
    let wrong = server
        .dsn
        .replacen(&server.key, "0123456789abcdef0123456789abcdef", 1);
    assert_ne!(wrong, server.dsn);
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(wrong)
        .retry_for(Duration::from_secs(1))
        .build()
        .unwrap();
    for n in 0..5 {
        reporter.capture_message(format!("event {n}"), Level::Error);
        assert!(reporter.flush(Duration::from_secs(10)).await);
    }
    let refused = warnings_with("refused this DSN's key");
    assert_eq!(refused.len(), 1, "once: {refused:?}");
    assert!(refused[0].contains("403"), "{refused:?}");
    assert!(
        refused[0].contains("unknown DSN key"),
        "the collector's reason: {refused:?}"
    );
    assert_eq!(reporter.stats().failed, 5);

    // Nothing listens: one warning, not one per event or per retry.
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(mayday_tests_dead_dsn().await)
        .retry_for(Duration::from_millis(300))
        .build()
        .unwrap();
    for n in 0..5 {
        reporter.capture_message(format!("event {n}"), Level::Error);
        reporter.flush(Duration::from_secs(10)).await;
    }
    let unreachable = warnings_with("cannot reach the collector");
    assert_eq!(unreachable.len(), 1, "once: {unreachable:?}");
}

/// A DSN whose port nothing listens on.
async fn mayday_tests_dead_dsn() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://0123456789abcdef0123456789abcdef@{addr}/1")
}
