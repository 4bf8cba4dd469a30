//! Two collectors on one database (PostgreSQL when configured, the way to grow past one
//! machine; else one SQLite file) under concurrent load over HTTP: every acknowledged
//! event stored once, issue counts equal to the stored events, each new issue notified
//! once.

use crate::common;

use std::collections::HashSet;

use crate::common::{TestServer, envelope, panic_event};
use mayday_collector::store::{IssueFilter, NotificationKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counts_stay_exact_and_each_issue_notifies_once() {
    let db = match common::postgres().await {
        Some(pg) => pg,
        None => common::sqlite(),
    };
    let args = ["--rate-limit", "0"];
    let first = TestServer::start(&db, &args).await;
    let second = TestServer::join(&db, &args, &first).await;
    first
        .state
        .store
        .add_recipient(first.project_id, "team@shop.example")
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for sender in 0..16 {
        let urls = [first.envelope_url(), second.envelope_url()];
        let auth = first.auth();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..40 {
                let mut event = panic_event(&format!("shop::handler_{}", i % 10), Some("7"));
                let id = event["event_id"].as_str().unwrap().to_owned();
                // Every fourth event is sent to both collectors, as an SDK retrying
                // against another collector behind the load balancer would.
                let targets = if i % 4 == 0 { 2 } else { 1 };
                for target in 0..targets {
                    event["event_id"] = serde_json::json!(id);
                    let response = client
                        .post(&urls[(sender + i + target) % 2])
                        .header("x-sentry-auth", &auth)
                        .body(envelope(&event))
                        .send()
                        .await
                        .expect("a collector answers");
                    assert_eq!(response.status(), 200, "no 5xx under contention");
                }
                acknowledged.push(id);
            }
            acknowledged
        }));
    }
    let mut acknowledged = HashSet::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    let store = &first.state.store;
    let issues = store
        .list_issues(
            first.project_id,
            &IssueFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(issues.len(), 10, "{}", db.kind);
    let mut stored = HashSet::new();
    let mut stored_rows = 0;
    for issue in &issues {
        let events = store.issue_events(issue.id, 0, 100_000).await.unwrap();
        assert_eq!(
            issue.event_count as usize,
            events.len(),
            "{}: the count of {} is its stored events",
            db.kind,
            issue.title
        );
        stored_rows += events.len();
        stored.extend(events.into_iter().map(|e| e.row.event_id));
    }
    assert_eq!(stored_rows, stored.len(), "each event stored once");
    assert_eq!(
        stored, acknowledged,
        "{}: every acknowledged event",
        db.kind
    );
    let notifications = store
        .notifications(first.project_id, None, 1000)
        .await
        .unwrap();
    let new_issue: Vec<i64> = notifications
        .iter()
        .filter(|n| n.kind == NotificationKind::NewIssue)
        .filter_map(|n| n.issue_id)
        .collect();
    let distinct: HashSet<i64> = new_issue.iter().copied().collect();
    assert_eq!(new_issue.len(), 10, "{}: one per issue", db.kind);
    assert_eq!(distinct.len(), 10);
}
