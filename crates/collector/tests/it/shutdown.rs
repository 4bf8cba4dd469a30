//! The collector binary stops cleanly: on SIGTERM it stops accepting connections,
//! answers the requests in flight (an ingest request only once its events are
//! committed), folds SQLite's write-ahead log into the database file, and exits 0;
//! every event it acknowledged is in the database file alone.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", dir.path().display());
    let collector = common::Process::start(&url, &[]).await;
    let key = collector
        .key
        .clone()
        .expect("the first start prints the DSN");
    let envelope_url = format!("{}/api/1/envelope/", collector.base);
    let auth = format!("Sentry sentry_version=7, sentry_key={key}");
    let client = reqwest::Client::new();

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (client, url, auth, acknowledged) = (
            client.clone(),
            envelope_url.clone(),
            auth.clone(),
            acknowledged.clone(),
        );
        senders.push(tokio::spawn(async move {
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
                    // Refused once it stops accepting: fine, not acknowledged.
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(collector.stop().await, "exit 0 after draining");
    for sender in senders {
        let _ = tokio::time::timeout(Duration::from_secs(10), sender).await;
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(!acknowledged.is_empty(), "events went in before the signal");
    // Stopped, the `.db` file alone is the whole database: the log is folded in and
    // emptied, so an operator's copy of `mayday.db` is a complete backup.
    let wal = dir.path().join("mayday.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_bytes, 0, "the write-ahead log is empty after a stop");
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("mayday.db"), copy.path().join("mayday.db")).unwrap();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", copy.path().display());
    let store = mayday_collector::store::Store::connect(&url).await.unwrap();
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
    let stored: Vec<String> = store
        .issue_events(issues[0].id, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.row.event_id)
        .collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged {id} is stored");
    }
    assert_eq!(issues[0].event_count as usize, stored.len(), "counts exact");
}
