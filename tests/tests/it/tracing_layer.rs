//! The tracing integration: breadcrumbs per request under concurrency, `error!` events
//! reported with their fields (scrubbed) and errors (as exceptions), span fields as tags.
//!
//! One test binary with one global subscriber, since handlers log on runtime threads.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use mayday_reporter::{Reporter, TracingLayer};
use mayday_tests::Receiver;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

async fn handler(Path(n): Path<u32>) -> StatusCode {
    let span = tracing::info_span!("checkout", tenant = format!("tenant-{n}").as_str());
    async move {
        tracing::info!(step = 1, "loading cart {n}");
        tokio::time::sleep(Duration::from_millis(u64::from(n % 5))).await;
        tracing::debug!("too chatty to keep");
        tracing::warn!("cart {n} is large");
        tokio::task::yield_now().await;
        tracing::error!(
            order_id = n,
            retryable = false,
            "payment failed for order {n}"
        );
        StatusCode::OK
    }
    .instrument(span)
    .await
}

/// In a process of its own: the tracing subscriber is the process's.
#[test]
fn tracing_in_a_process_of_its_own() {
    crate::isolated(
        "tracing_layer::tracing_events_become_breadcrumbs_events_and_tags",
        &[],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a process of its own; run by the test above"]
async fn tracing_events_become_breadcrumbs_events_and_tags() {
    let receiver = Receiver::start().await;
    let reporter = Reporter::builder(mayday_reporter::build_info!())
        .dsn(receiver.dsn())
        .build()
        .unwrap();
    tracing_subscriber::registry()
        .with(TracingLayer::new(&reporter).span_tags(["tenant"]))
        .init();

    let app = Router::new()
        .route("/orders/{n}", get(handler))
        .layer(reporter.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = reqwest::Client::new();
    let requests: Vec<_> = (0..30)
        .map(|n| {
            let client = client.clone();
            let url = format!("{base}/orders/{n}");
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    // And one outside any request, with an error recorded as an error and a secret.
    let cause = std::io::Error::other("connection reset by peer");
    let error = JobError(cause);
    tracing::error!(
        job = "nightly",
        api_token = "tok-123",
        error = &error as &dyn std::error::Error,
        "report job failed"
    );

    assert!(reporter.flush(Duration::from_secs(10)).await);
    let events: Vec<_> = receiver.received().iter().map(|r| r.event()).collect();
    assert_eq!(events.len(), 31);
    for event in events.iter().filter(|e| e.request.is_some()) {
        let extra = event.extra.as_ref().expect("the fields");
        let n = extra["order_id"].as_u64().unwrap();
        assert_eq!(
            event.message_text(),
            Some(format!("payment failed for order {n}").as_str())
        );
        assert_eq!(extra["retryable"], false);
        assert_eq!(event.level, Some(mayday_protocol::Level::Error));
        // The logger is the tracing event's target: this module.
        assert_eq!(event.logger.as_deref(), Some(module_path!()));
        assert_eq!(
            event.tags.as_ref().unwrap()["tenant"],
            format!("tenant-{n}")
        );
        assert!(
            event
                .request
                .as_ref()
                .unwrap()
                .url
                .as_deref()
                .unwrap()
                .ends_with(&format!("/orders/{n}"))
        );
        let crumbs: Vec<String> = event
            .breadcrumbs
            .as_ref()
            .unwrap()
            .values
            .iter()
            .map(|b| b.message.clone().unwrap())
            .collect();
        // Only this request's breadcrumbs, and no debug! ones.
        assert_eq!(
            crumbs,
            [format!("loading cart {n}"), format!("cart {n} is large")]
        );
    }
    let outside = events
        .iter()
        .find(|e| e.request.is_none())
        .expect("the job's event");
    assert_eq!(outside.message_text(), Some("report job failed"));
    let extra = outside.extra.as_ref().unwrap();
    assert_eq!(extra["job"], "nightly");
    assert_eq!(
        extra["api_token"], "[Filtered]",
        "fields are scrubbed by name"
    );
    // The error field is an exception with its chain, innermost cause first.
    let chain: Vec<(&str, &str)> = outside
        .exceptions()
        .iter()
        .map(|e| (e.ty.as_deref().unwrap(), e.value.as_deref().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            ("Custom", "connection reset by peer"),
            ("JobError", "the nightly report could not be sent")
        ]
    );
}

#[derive(Debug)]
struct JobError(std::io::Error);
impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the nightly report could not be sent")
    }
}
impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
