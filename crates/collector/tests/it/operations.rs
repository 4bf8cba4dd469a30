//! An operator's day with the binary: backups taken while it serves and ingests, a
//! restore refused while it serves and done once it is stopped, the database it restored
//! showing what the backup held.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{Process, command};
use mayday_collector::store::{IssueFilter, Store};

/// The events stored per issue and the issues' own counts, summed: equal when the
/// database is consistent.
async fn counts(url: &str) -> (usize, i64) {
    let store = Store::connect(url).await.unwrap();
    let issues = store
        .list_issues(
            1,
            &IssueFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut stored = 0;
    let mut counted = 0;
    for issue in &issues {
        stored += store
            .issue_events(issue.id, 0, 100_000)
            .await
            .unwrap()
            .len();
        counted += issue.event_count;
    }
    (stored, counted)
}

/// `backup` while four senders ingest: the copy holds everything acknowledged before it
/// began, its counts match its events; `restore` is refused while the collector serves,
/// then put in place once it stops, and a collector on it shows the backup's counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_load_and_restore_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/mayday.db?mode=rwc", dir.path().display());
    let collector = Process::start(&url, &[]).await;
    let key = collector
        .key
        .clone()
        .expect("the first start prints the DSN");
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|n| {
            let url = format!("{}/api/1/envelope/", collector.base);
            let auth = format!("Sentry sentry_version=7, sentry_key={key}");
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let event = common::panic_event(&format!("shop::worker{n}::run"), Some("7"));
                    let answer = client
                        .post(&url)
                        .header("x-sentry-auth", &auth)
                        .body(common::envelope(&event))
                        .send()
                        .await;
                    if answer.is_ok_and(|a| a.status() == 200) {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let backup = dir.path().join("backups/mayday-1.db");
    let before = acknowledged.load(Ordering::SeqCst);
    let (ok, out, err) = {
        let (url, backup) = (url.clone(), backup.display().to_string());
        tokio::task::spawn_blocking(move || command(&url, &["backup", &backup]))
            .await
            .unwrap()
    };
    let after = acknowledged.load(Ordering::SeqCst);
    assert!(ok, "{err}");
    assert!(
        out.contains("backed up") && out.contains("mayday-1.db"),
        "{out}"
    );
    assert!(before > 0, "events went in before the backup");

    // Never over a file; never while serving.
    let (ok, _, err) = command(&url, &["backup", &backup.display().to_string()]);
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = command(&url, &["restore", &backup.display().to_string()]);
    assert!(!ok, "a restore while serving is refused");
    assert!(
        err.contains("a collector is serving") && err.contains("stop it first"),
        "{err}"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }
    assert!(collector.stop().await, "exit 0");
    let total = acknowledged.load(Ordering::SeqCst);

    // The copy: consistent, with what was acknowledged when it began and no more than
    // what was when it ended.
    let copy_url = format!("sqlite://{}?mode=rw", backup.display());
    let (copied, copied_counted) = counts(&copy_url).await;
    assert_eq!(
        copied as i64, copied_counted,
        "the copy's counts match its events"
    );
    assert!(
        (before..=after).contains(&copied),
        "{before} <= {copied} <= {after}"
    );
    assert!(copied < total, "the load went on after the backup");

    // Restored once stopped: the backup's counts, the replaced database kept.
    let (ok, out, err) = command(&url, &["restore", &backup.display().to_string()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("restored") && out.contains("before-restore"),
        "{out}"
    );
    assert!(dir.path().join("mayday.db.before-restore").exists());
    let restarted = Process::start(&url, &[]).await;
    let token = {
        let store = Store::connect(&url).await.unwrap();
        let account = mayday_collector::accounts::create_account(
            &store,
            "ops@example.com",
            None,
            "correct horse battery",
            true,
        )
        .await
        .unwrap();
        mayday_collector::accounts::create_api_token(&store, account.id, "ops")
            .await
            .unwrap()
    };
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/projects/1/issues", restarted.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown: i64 = listed["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(
        shown as usize, copied,
        "the restored collector shows the backup's counts: {listed}"
    );
    assert!(restarted.stop().await);

    // What cannot be restored says why, and leaves the database alone.
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not a database").unwrap();
    let (ok, _, err) = command(&url, &["restore", &junk.display().to_string()]);
    assert!(!ok && err.contains("cannot be restored"), "{err}");
    assert_eq!(counts(&url).await.0, copied);
}

/// PostgreSQL is backed up with its own tools: the command says which, and fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backups_point_to_pg_dump() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let (ok, _, err) = command(&db.url, &["backup", "/tmp/never-written.db"]);
    assert!(!ok, "non-zero exit");
    assert!(
        err.contains("pg_dump") && err.contains("pg_restore"),
        "{err}"
    );
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}
