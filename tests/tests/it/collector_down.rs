//! With the collector down, the app keeps answering and the reporter stays bounded.
//!
//! In a process of its own (see `crate::isolated`): the memory it measures is the
//! whole process's, and no other test's detached panics reach its reporter.

use std::time::Duration;

use mayday_reporter::Reporter;
use mayday_tests::dead_dsn;
use reqwest::StatusCode;

#[test]
fn collector_down_in_a_process_of_its_own() {
    crate::isolated(
        "collector_down::collector_down_every_request_is_answered_and_drops_are_counted",
        &[],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a process of its own; run by the test above"]
async fn collector_down_every_request_is_answered_and_drops_are_counted() {
    const REQUESTS: u64 = 10_000;
    let reporter = Reporter::builder(axum_app::build_info())
        .dsn(dead_dsn().await)
        .queue_capacity(64)
        .retry_for(Duration::from_secs(2))
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum_app::app(&reporter);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // The first requests pay one-time costs (symbol tables loaded by the worker,
    // connection pools); memory is bounded if it does not grow with the requests after.
    let warm_up = hammer(&base, REQUESTS / 5).await;
    let rss_after_warm_up = rss_kib();
    let answered = warm_up + hammer(&base, REQUESTS - REQUESTS / 5).await;
    assert_eq!(answered, REQUESTS);

    let stats = reporter.stats();
    // Every report is accounted for: queued (at most the queue plus what the worker took)
    // or dropped and counted.
    assert_eq!(stats.queued + stats.dropped, answered);
    assert!(stats.dropped > 0, "{stats:?}");
    assert!(stats.queued < 200, "the queue is bounded: {stats:?}");
    assert_eq!(stats.sent, 0);
    let growth = rss_kib().saturating_sub(rss_after_warm_up);
    assert!(
        growth < 16 * 1024,
        "memory grew by {growth} KiB over 8,000 failing requests"
    );
}

/// Sends `count` requests to `/error` from `CONCURRENCY` clients; returns how many were
/// answered with the app's 500.
async fn hammer(base: &str, count: u64) -> u64 {
    const CONCURRENCY: u64 = 32;
    let client = reqwest::Client::new();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let client = client.clone();
        let url = format!("{base}/error");
        let share = count / CONCURRENCY + u64::from(worker < count % CONCURRENCY);
        workers.push(tokio::spawn(async move {
            let mut answered = 0u64;
            for _ in 0..share {
                let response = client.get(&url).send().await.expect("answered");
                assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
                answered += 1;
            }
            answered
        }));
    }
    let mut answered = 0;
    for worker in workers {
        answered += worker.await.expect("worker finished");
    }
    answered
}

/// Resident set size of this process, from /proc (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
