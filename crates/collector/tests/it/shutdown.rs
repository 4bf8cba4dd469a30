//! The collector binary stops cleanly: on SIGTERM it stops accepting connections,
//! answers the requests in flight (an ingest request only once its events are
//! committed), and exits 0; every event it acknowledged is in the database.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mayday-collector");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", dir.path().display());
    let mut child = Command::new(BIN)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("MAYDAY_DATABASE_URL", &url)
        .env("MAYDAY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first start prints the default project's DSN.
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let key = loop {
        let line = lines.next().expect("the collector starts").unwrap();
        if let Some(dsn) = line.trim().strip_prefix("MAYDAY_DSN=http://") {
            break dsn.split('@').next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let envelope_url = format!("http://127.0.0.1:{port}/api/1/envelope/");
    let auth = format!("Sentry sentry_version=7, sentry_key={key}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the collector answers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

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
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exited.success(), "exit 0 after draining: {exited:?}");
    for sender in senders {
        let _ = tokio::time::timeout(Duration::from_secs(10), sender).await;
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(!acknowledged.is_empty(), "events went in before the signal");
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
