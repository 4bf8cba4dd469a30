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

/// A fresh PostgreSQL database (when a server runs), a proxy in front of it, and a
/// collector that reaches the database through the proxy.
async fn behind_a_proxy() -> Option<(common::TestDb, common::Proxy, common::TestServer)> {
    let db = common::postgres().await?;
    let url = url::Url::parse(&db.url).unwrap();
    let target = tokio::net::lookup_host((url.host_str().unwrap(), url.port().unwrap_or(5432)))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = common::Proxy::start(target).await;
    let server = common::TestServer::start(&db.through(proxy.address), &[]).await;
    Some((db, proxy, server))
}

/// What one ingest request got.
#[derive(Debug, Clone)]
struct Answer {
    at: std::time::Instant,
    status: u16,
    retry_after: bool,
    event_id: String,
}

/// PostgreSQL goes away under load and comes back: meanwhile ingest answers 503 with
/// `Retry-After` (never a 200 for an event not committed), afterwards the collector
/// recovers by itself, and every acknowledged event is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_under_load_loses_nothing_acknowledged() {
    let Some((db, proxy, server)) = behind_a_proxy().await else {
        return;
    };
    let answers = Arc::new(std::sync::Mutex::new(Vec::<Answer>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|n| {
            let (url, auth) = (server.envelope_url(), server.auth());
            let (answers, stop) = (answers.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let event = common::panic_event(&format!("shop::worker{n}::run"), Some("7"));
                    let event_id = event["event_id"].as_str().unwrap().to_owned();
                    let Ok(response) = client
                        .post(&url)
                        .header("x-sentry-auth", &auth)
                        .body(common::envelope(&event))
                        .send()
                        .await
                    else {
                        continue;
                    };
                    let answer = Answer {
                        at: std::time::Instant::now(),
                        status: response.status().as_u16(),
                        retry_after: response.headers().contains_key("retry-after"),
                        event_id,
                    };
                    let refused = answer.status != 200;
                    answers.lock().unwrap().push(answer);
                    if refused {
                        // As an SDK would: back off a little.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.down();
    let down_at = std::time::Instant::now();
    // Refusals while it is down.
    for _ in 0..200 {
        if answers
            .lock()
            .unwrap()
            .iter()
            .any(|a| a.at > down_at && a.status == 503)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.up();
    let up_at = std::time::Instant::now();
    let mut recovered = None;
    for _ in 0..600 {
        if let Some(first) = answers
            .lock()
            .unwrap()
            .iter()
            .find(|a| a.at > up_at && a.status == 200)
        {
            recovered = Some(first.at - up_at);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = recovered.expect("ingest recovers without a restart");
    eprintln!("PostgreSQL outage: first event acknowledged {recovered:?} after it came back");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }

    let answers = answers.lock().unwrap().clone();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status != 200).collect();
    eprintln!(
        "PostgreSQL outage: {} answers, {} refused",
        answers.len(),
        refused.len()
    );
    assert!(!refused.is_empty(), "the outage was seen");
    assert!(
        refused.iter().all(|a| a.status == 503 && a.retry_after),
        "503 with Retry-After, nothing else: {refused:?}"
    );
    let store = Store::connect(&db.url).await.unwrap();
    let mut stored = std::collections::HashSet::new();
    for issue in store
        .list_issues(
            1,
            &IssueFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    {
        for event in store.issue_events(issue.id, 0, 100_000).await.unwrap() {
            stored.insert(event.row.event_id);
        }
    }
    let acknowledged: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    let lost: Vec<&&Answer> = acknowledged
        .iter()
        .filter(|a| !stored.contains(&a.event_id.replace('-', "")))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
    assert!(
        acknowledged.iter().any(|a| a.at > up_at),
        "events after the outage"
    );
}

/// PostgreSQL's connections cut while the collector is idle (the server restarted, a
/// proxy dropped them): its next requests are answered as usual. A connection idle for
/// a second is pinged before it is lent, and one found dead is replaced, not handed to a
/// request that would then fail with 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_while_idle_are_not_lent() {
    let Some((_db, proxy, server)) = behind_a_proxy().await else {
        return;
    };
    let client = reqwest::Client::new();
    let send = |n: usize| {
        let event = common::panic_event(&format!("shop::idle{n}::run"), Some("7"));
        client
            .post(server.envelope_url())
            .header("x-sentry-auth", server.auth())
            .body(common::envelope(&event))
            .send()
    };
    // Several connections open: requests in parallel.
    let answers = futures_util::future::join_all((0..8).map(send)).await;
    assert!(answers.iter().all(|a| a.as_ref().unwrap().status() == 200));

    proxy.cut().await;
    // Longer than a connection may sit idle before it is pinged (one second): this
    // waits on sqlx's own clock, which a test cannot move.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let answers = futures_util::future::join_all((8..24).map(send)).await;
    let statuses: Vec<u16> = answers
        .iter()
        .map(|a| a.as_ref().unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every request after the cut answered: {statuses:?}"
    );
    let issues = server.issues_up_to(100).await;
    assert_eq!(
        issues.len(),
        24,
        "every event stored, before and after the cut"
    );
}

/// A tmpfs of `megabytes` at a new folder, unmounted when dropped; `None` where this
/// machine does not let the test mount one.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk { dir })
    }

    /// Gives the filesystem `megabytes` (more room: the space returns).
    fn resize(&self, megabytes: u32) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: the collector's connections may close a moment later.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// SQLite on a full disk: ingest answers 503 with `Retry-After` (nothing acknowledged
/// that is not stored), the database stays intact, and ingest works again as soon as
/// there is room, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_for_a_while_and_corrupts_nothing() {
    let Some(disk) = SmallDisk::mount(4) else {
        eprintln!("this machine does not let the test mount a tmpfs; the full-disk test needs one");
        return;
    };
    let url = format!("sqlite://{}/mayday.db?mode=rwc", disk.dir.path().display());
    let db_url = url.clone();
    let server = {
        let db = common::TestDb::at(&db_url);
        common::TestServer::start(&db, &[]).await
    };
    let client = reqwest::Client::new();
    // Events with a big, incompressible message fill the disk quickly.
    let send = async |n: usize| {
        let mut event = common::panic_event("shop::upload::store", Some("7"));
        let noise: String = (0..6000)
            .map(|i| char::from(b'a' + ((i * 7919 + n * 104_729) % 26) as u8))
            .collect();
        event["message"] = serde_json::json!(format!("{n} {noise}"));
        let id = event["event_id"].as_str().unwrap().to_owned();
        let response = client
            .post(server.envelope_url())
            .header("x-sentry-auth", server.auth())
            .body(common::envelope(&event))
            .send()
            .await
            .unwrap();
        (
            id,
            response.status().as_u16(),
            response.headers().contains_key("retry-after"),
        )
    };
    let mut acknowledged = Vec::new();
    let mut refusals = Vec::new();
    let mut n = 0;
    while refusals.len() < 5 {
        assert!(n < 20_000, "the disk never filled");
        let (id, status, retry_after) = send(n).await;
        n += 1;
        match status {
            200 => acknowledged.push(id),
            other => refusals.push((other, retry_after)),
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "events went in before the disk filled"
    );
    assert!(
        refusals
            .iter()
            .all(|(status, retry)| *status == 503 && *retry),
        "503 with Retry-After while full: {refusals:?}"
    );
    // Room again: ingest goes on by itself.
    disk.resize(64);
    let mut after = 0;
    for _ in 0..10 {
        let (id, status, _) = send(n).await;
        n += 1;
        if status == 200 {
            acknowledged.push(id);
            after += 1;
        }
    }
    assert_eq!(after, 10, "every event accepted once there is room");
    let store = Store::connect(&url).await.unwrap();
    use sea_orm::ConnectionTrait;
    let check = store
        .connection()
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
    let mut stored = std::collections::HashSet::new();
    for issue in store
        .list_issues(
            1,
            &IssueFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    {
        for event in store.issue_events(issue.id, 0, 100_000).await.unwrap() {
            stored.insert(event.row.event_id);
        }
    }
    let lost = acknowledged
        .iter()
        .filter(|id| !stored.contains(&id.replace('-', "")))
        .count();
    assert_eq!(lost, 0, "every acknowledged event is stored");
    drop(server);
}

/// `packaging/mayday-collector.service` is a unit systemd accepts (`systemd-analyze
/// verify`, where this machine has it) and its exposure is rated OK or better, with the
/// binary this build made in place of the installed one.
#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../packaging/mayday-collector.service"
    ))
    .unwrap();
    assert!(unit.contains("DynamicUser=yes") && unit.contains("StateDirectory=mayday"));
    assert!(unit.contains("MAYDAY_DATABASE_URL=sqlite:///var/lib/mayday/mayday.db?mode=rwc"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mayday-collector.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/mayday-collector", common::BIN),
    )
    .unwrap();
    let Ok(verify) = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
    else {
        eprintln!("systemd-analyze is not installed here; the unit was not verified");
        return;
    };
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let security = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    assert!(
        report.contains("Overall exposure level") && report.contains(" OK"),
        "{report}"
    );
}
