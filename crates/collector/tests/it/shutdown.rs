//! The collector binary stops cleanly: on SIGTERM it stops accepting connections,
//! answers the requests in flight (an ingest request only once its events are
//! committed), folds SQLite's write-ahead log into the database file, and exits 0;
//! every event it acknowledged is in the database file alone. Killed instead, it loses
//! no acknowledged event either.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Senders posting new events to `collector` until one is refused or fails; the ids
/// of those it acknowledged (answered 200, which it does only after the commit).
fn send_until_refused(
    collector: &common::Process,
    senders: usize,
) -> (Arc<Mutex<Vec<String>>>, Vec<tokio::task::JoinHandle<()>>) {
    let key = collector
        .key
        .clone()
        .expect("the first start prints the DSN");
    let envelope_url = format!("{}/api/1/envelope/", collector.base);
    let auth = format!("Sentry sentry_version=7, sentry_key={key}");
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (client, url, auth, acknowledged) = (
            client.clone(),
            envelope_url.clone(),
            auth.clone(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let event = common::panic_event("shop::checkout::apply_coupon", Some("7"));
                let id = event["event_id"].as_str().unwrap().to_owned();
                match client
                    .post(&url)
                    .header("x-sentry-auth", &auth)
                    .body(common::envelope(&event))
                    .send()
                    .await
                {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.lock().unwrap().push(id);
                    }
                    // Refused once it stops accepting, or cut off: not acknowledged.
                    _ => break,
                }
            }
        }));
    }
    (acknowledged, tasks)
}

/// Every id in `acknowledged` is stored in the database at `url`, and the issue's count
/// equals its stored events.
async fn assert_every_acknowledged_event_stored(url: &str, acknowledged: &[String]) {
    assert!(!acknowledged.is_empty(), "events went in before the signal");
    let store = mayday_collector::store::Store::connect(url).await.unwrap();
    let issues = store
        .list_issues(
            1,
            &mayday_collector::store::IssueFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let stored: std::collections::HashSet<String> = store
        .issue_events(issues[0].id, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.row.event_id)
        .collect();
    for id in acknowledged {
        assert!(stored.contains(id), "acknowledged {id} is stored");
    }
    assert_eq!(issues[0].event_count as usize, stored.len(), "counts exact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", dir.path().display());
    let collector = common::Process::start(&url, &[]).await;
    let (acknowledged, senders) = send_until_refused(&collector, 4);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(collector.stop().await, "exit 0 after draining");
    for sender in senders {
        let _ = tokio::time::timeout(Duration::from_secs(10), sender).await;
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    // Stopped, the `.db` file alone is the whole database: the log is folded in and
    // emptied, so an operator's copy of `mayday.db` is a complete backup.
    let wal = dir.path().join("mayday.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_bytes, 0, "the write-ahead log is empty after a stop");
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("mayday.db"), copy.path().join("mayday.db")).unwrap();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", copy.path().display());
    assert_every_acknowledged_event_stored(&url, &acknowledged).await;
}

/// Killed under load (SIGKILL: no drain, no checkpoint, as a crash or the OOM killer
/// would), the collector has lost no event it acknowledged: with `synchronous=NORMAL`
/// a commit is in the write-ahead log, in the operating system's cache, before the
/// answer, and SQLite recovers it from there at the next open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", dir.path().display());
    let collector = common::Process::start(&url, &[]).await;
    let (acknowledged, senders) = send_until_refused(&collector, 8);
    tokio::time::sleep(Duration::from_millis(800)).await;
    collector.kill();
    for sender in senders {
        let _ = tokio::time::timeout(Duration::from_secs(10), sender).await;
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    let wal = dir.path().join("mayday.db-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "killed, it left its write-ahead log behind (what this test is about)"
    );
    assert_every_acknowledged_event_stored(&url, &acknowledged).await;
}
