//! Monitors with real clients: the official Python SDK's check-ins, a shell job's
//! check-ins with curl, a local site that goes down and comes back (real SMTP server),
//! a local site whose sitemap has a failing page, missed and timed-out runs found by
//! the scheduler with a moved clock, and two collectors that run each check once.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::smtp::SmtpServer;
use crate::common::{TestServer, api_json, client};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use mayday_collector::audit::Actor;
use mayday_collector::scheduler::Scheduler;
use mayday_collector::store::{MonitorStatus, NotificationKind, now_ms};
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;

/// The official Python SDK, installed from PyPI under the target directory on first use.
async fn python_sdk() -> std::path::PathBuf {
    common::python_packages("python-sentry-sdk", "sentry-sdk>=2,<3", "sentry_sdk").await
}

const PYTHON: &str = r#"
import sys, sentry_sdk
from sentry_sdk.crons import capture_checkin, monitor
sentry_sdk.init(dsn=sys.argv[1], environment="production")
config = {"schedule": {"type": "interval", "value": 1, "unit": "minute"},
          "checkin_margin": 1, "max_runtime": 1, "timezone": "Europe/Paris"}
step = sys.argv[2]
if step == "ok":
    capture_checkin(monitor_slug="nightly-backup", status="ok", duration=1.5, monitor_config=config)
elif step == "error":
    capture_checkin(monitor_slug="nightly-backup", status="error")
elif step == "decorated":
    @monitor(monitor_slug="nightly-backup", monitor_config=config)
    def job():
        return 42
    job()
sentry_sdk.flush(10)
"#;

async fn python(server: &TestServer, step: &str) {
    let output = tokio::process::Command::new("python3")
        .args(["-c", PYTHON, &server.dsn, step])
        .env("PYTHONPATH", python_sdk().await)
        .output()
        .await
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Python SDK script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn monitor_json(server: &TestServer, token: &str, slug: &str) -> Value {
    let list = api_json(
        server,
        token,
        &format!("/api/v1/projects/{}/monitors", server.project_id),
    )
    .await;
    list["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == slug)
        .unwrap_or_else(|| panic!("monitor {slug} in {list}"))
        .clone()
}

async fn checkins(server: &TestServer, token: &str, monitor_id: i64) -> Vec<Value> {
    api_json(
        server,
        token,
        &format!("/api/v1/monitors/{monitor_id}/checkins"),
    )
    .await["checkins"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_from_the_python_sdk_drive_the_monitor() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;

    python(&server, "ok").await;
    let monitor = monitor_json(&server, &token, "nightly-backup").await;
    assert_eq!(monitor["kind"], "cron");
    assert_eq!(monitor["status"], "ok");
    assert_eq!(monitor["environment"], "production");
    assert_eq!(
        monitor["config"]["schedule"],
        json!({"type": "interval", "value": 1, "unit": "minute"})
    );
    assert_eq!(monitor["config"]["timezone"], "Europe/Paris");
    assert!(monitor["next_expected_at"].is_string(), "{monitor}");
    let id = monitor["id"].as_i64().unwrap();
    let rows = checkins(&server, &token, id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["duration_ms"], 1500);

    python(&server, "error").await;
    assert_eq!(
        monitor_json(&server, &token, "nightly-backup").await["status"],
        "error"
    );

    // The decorator: in_progress, then ok with the same check_in_id and a duration.
    python(&server, "decorated").await;
    let monitor = monitor_json(&server, &token, "nightly-backup").await;
    assert_eq!(monitor["status"], "ok");
    let rows = checkins(&server, &token, id).await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0]["status"], "ok");
    assert!(rows[0]["duration_ms"].is_i64(), "{:?}", rows[0]);
    assert!(rows[0]["finished_at"].is_string());
    assert_eq!(
        rows.iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["ok", "error", "ok"]
    );
}

/// A Rust job reports through mayday-reporter: `monitor(..).run(..)` sends in_progress,
/// then ok or error with the duration, and its configuration creates the monitor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_job_checks_in_through_the_reporter() {
    use mayday_reporter::{CheckInStatus, MonitorConfig, Schedule};
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let reporter = mayday_reporter::Reporter::builder(mayday_reporter::build_info!())
        .dsn(server.dsn.clone())
        .environment("production")
        .build()
        .unwrap();
    let export = reporter.monitor(
        "nightly-export",
        MonitorConfig::new(Schedule::Crontab {
            value: "0 3 * * *".into(),
        })
        .checkin_margin(5)
        .max_runtime(30),
    );

    // A blocking job that works, then one that fails, then an async one that works.
    let exported: Result<u32, String> = tokio::task::spawn_blocking({
        let export = export.clone();
        move || {
            export.run(|| {
                std::thread::sleep(Duration::from_millis(30));
                Ok(12)
            })
        }
    })
    .await
    .unwrap();
    assert_eq!(exported, Ok(12), "the job's own result comes back");
    let failed: Result<u32, String> = export.run(|| Err("disk full".into()));
    assert!(failed.is_err());
    assert!(reporter.flush(Duration::from_secs(10)).await);
    let monitor = monitor_json(&server, &token, "nightly-export").await;
    assert_eq!(monitor["kind"], "cron");
    assert_eq!(monitor["status"], "error");
    assert_eq!(monitor["environment"], "production");
    assert_eq!(
        monitor["config"]["schedule"],
        json!({"type": "crontab", "value": "0 3 * * *"})
    );
    let id = monitor["id"].as_i64().unwrap();
    let rows = checkins(&server, &token, id).await;
    assert_eq!(
        rows.iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["error", "ok"],
        "{rows:#?}"
    );
    assert!(
        rows[1]["duration_ms"].as_i64().unwrap() >= 30,
        "the run's duration: {:?}",
        rows[1]
    );

    let done = export.run_async(async { Ok::<(), String>(()) }).await;
    assert!(done.is_ok());
    // A plain check-in, and a run ended by hand.
    let started = reporter
        .check_in("nightly-export", CheckInStatus::InProgress)
        .expect("queued");
    assert!(reporter.finish_check_in(
        "nightly-export",
        &started,
        CheckInStatus::Ok,
        Duration::from_millis(250)
    ));
    assert!(reporter.flush(Duration::from_secs(10)).await);
    let rows = checkins(&server, &token, id).await;
    assert_eq!(rows.len(), 4, "{rows:#?}");
    assert_eq!(rows[0]["duration_ms"], 250);
    assert_eq!(
        monitor_json(&server, &token, "nightly-export").await["status"],
        "ok"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_job_checks_in_with_curl() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let in_path = format!(
        "{}/api/{}/cron/db-vacuum/{}/",
        server.base, server.project_id, server.key
    );
    let curl = |url: String| async move {
        let output = tokio::process::Command::new("curl")
            .args(["-sS", "-o", "/dev/stderr", "-w", "%{http_code}", &url])
            .output()
            .await
            .expect("curl runs");
        let code = String::from_utf8_lossy(&output.stdout).to_string();
        (code, String::from_utf8_lossy(&output.stderr).to_string())
    };
    let (code, _) = curl(format!(
        "{in_path}?status=in_progress&environment=production"
    ))
    .await;
    assert_eq!(code, "202");
    let monitor = monitor_json(&server, &token, "db-vacuum").await;
    assert_eq!(monitor["status"], "pending");
    // The key as a query parameter; the end finishes the run in progress.
    let (code, _) = curl(format!(
        "{}/api/{}/cron/db-vacuum/?sentry_key={}&status=ok",
        server.base, server.project_id, server.key
    ))
    .await;
    assert_eq!(code, "202");
    let id = monitor["id"].as_i64().unwrap();
    let rows = checkins(&server, &token, id).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["status"], "ok");
    assert_eq!(rows[0]["environment"], "production");
    assert_eq!(
        monitor_json(&server, &token, "db-vacuum").await["status"],
        "ok"
    );

    // Bad input gets a 4xx naming the problem.
    let (code, body) = curl(format!("{in_path}?status=maybe")).await;
    assert_eq!(code, "400");
    assert!(body.contains("status"), "{body}");
    let (code, body) = curl(format!(
        "{}/api/{}/cron/db-vacuum/{}/?status=ok",
        server.base,
        server.project_id,
        "0".repeat(32)
    ))
    .await;
    assert_eq!(code, "403", "{body}");
    let bad_config = client()
        .post(&in_path)
        .json(&json!({"status": "ok", "monitor_config": {"schedule": {"type": "crontab", "value": "61 * * * *"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_config.status(), StatusCode::BAD_REQUEST);
    let detail = bad_config.json::<Value>().await.unwrap()["detail"].to_string();
    assert!(detail.contains("crontab"), "{detail}");
    let (code, _) = curl(format!(
        "{}/api/{}/cron/{}/{}/?status=ok",
        server.base,
        server.project_id,
        "x".repeat(65),
        server.key
    ))
    .await;
    assert_eq!(code, "400");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_and_timed_out_runs_notify_once_per_change() {
    for db in common::databases().await {
        let smtp = SmtpServer::start(0).await;
        let server =
            TestServer::start(&db, &["--smtp-url", &smtp.url(), "--notify-poll-ms", "50"]).await;
        let store = &server.state.store;
        store
            .add_recipient(server.project_id, "ops@shop.example")
            .await
            .unwrap();
        let token = server.token("root@example.com", true).await;
        let url = format!(
            "{}/api/{}/cron/nightly-backup/{}/",
            server.base, server.project_id, server.key
        );
        let config = json!({"schedule": {"type": "interval", "value": 1, "unit": "minute"},
                            "checkin_margin": 1, "max_runtime": 1});
        let answer = client()
            .post(&url)
            .json(&json!({"status": "ok", "environment": "production", "monitor_config": config}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
        let monitor = monitor_json(&server, &token, "nightly-backup").await;
        let expected =
            chrono::DateTime::parse_from_rfc3339(monitor["next_expected_at"].as_str().unwrap())
                .unwrap();
        let scheduler = Scheduler::new(server.state.clone());

        // The clock moves past the expected time and the margin: missed, once.
        let later = now_ms() + 3 * MINUTE;
        let report = scheduler.tick(later).await.unwrap();
        assert_eq!(report.missed, 1, "{}", db.kind);
        assert_eq!(scheduler.tick(later).await.unwrap().missed, 0);
        let monitor = monitor_json(&server, &token, "nightly-backup").await;
        assert_eq!(monitor["status"], "missed");
        let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
        assert_eq!(
            mails[0].subject(),
            format!(
                "[default/production] Monitor nightly-backup missed its {} check-in",
                expected.format("%H:%M")
            )
        );
        // Missed again: the status stays, nobody is told twice.
        let much_later = later + 2 * MINUTE;
        assert_eq!(scheduler.tick(much_later).await.unwrap().missed, 1);

        // A run starts and never ends: timed out after its maximum runtime.
        let started = client()
            .get(format!("{url}?status=in_progress&check_in_id=run-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), StatusCode::ACCEPTED);
        // Past the maximum runtime (1 minute), before the next run is late (2 minutes).
        let report = scheduler.tick(now_ms() + 90_000).await.unwrap();
        assert_eq!(report.timed_out, 1, "{}", db.kind);
        assert_eq!(report.missed, 0, "{}", db.kind);
        assert_eq!(
            monitor_json(&server, &token, "nightly-backup").await["status"],
            "timeout"
        );
        // It ends late after all: the run is recorded as it ended, the monitor recovers.
        let ended = client()
            .get(format!("{url}?status=ok&check_in_id=run-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), StatusCode::ACCEPTED);
        assert_eq!(
            monitor_json(&server, &token, "nightly-backup").await["status"],
            "ok"
        );
        let mails = smtp.wait_for(3, Duration::from_secs(20)).await;
        let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
        assert_eq!(subjects.len(), 3, "{subjects:?}");
        // Queued one after the other, delivered side by side: in either order.
        assert!(
            subjects[1..]
                .contains(&"[default/production] Monitor nightly-backup timed out".to_owned()),
            "{subjects:?}"
        );
        assert!(
            subjects[1..]
                .iter()
                .any(|s| s
                    .starts_with("[default/production] Monitor nightly-backup recovered after")),
            "{subjects:?}"
        );
        let kinds: Vec<NotificationKind> = store
            .notifications(server.project_id, None, 10)
            .await
            .unwrap()
            .iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                NotificationKind::MonitorRecovered,
                NotificationKind::MonitorTimeout,
                NotificationKind::MonitorMissed
            ],
            "{}",
            db.kind
        );
    }
}

/// A local site whose home page is up or down at will; counts requests.
struct Site {
    base: String,
    up: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

async fn site() -> Site {
    let up = Arc::new(AtomicBool::new(true));
    let hits = Arc::new(AtomicUsize::new(0));
    let (state_up, state_hits) = (up.clone(), hits.clone());
    let app = Router::new().route(
        "/",
        get(move || {
            let (up, hits) = (state_up.clone(), state_hits.clone());
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                if up.load(Ordering::SeqCst) {
                    (StatusCode::OK, "Welcome to the shop")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "maintenance")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Site { base, up, hits }
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_goes_down_and_comes_back_sends_one_email_each() {
    let mail = common::with_mail(&["--allow-private-targets"]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let token = server.token("root@example.com", true).await;
    let shop = site().await;
    let created = client()
        .post(format!(
            "{}/api/v1/projects/{}/monitors",
            server.base, server.project_id
        ))
        .bearer_auth(&token)
        .json(
            &json!({"kind": "http", "name": "Shop home", "url": format!("{}/", shop.base),
                      "interval_seconds": 1, "failures": 2, "keyword": "Welcome"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    mayday_collector::scheduler::spawn(server.state.clone(), Duration::from_millis(100));

    let status = async || server.state.store.monitor(id).await.unwrap().status;
    wait_until("the first check", async || {
        status().await == MonitorStatus::Ok
    })
    .await;
    shop.up.store(false, Ordering::SeqCst);
    wait_until("down", async || status().await == MonitorStatus::Down).await;
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        mails[0].subject(),
        format!("[default] {}/ is down (HTTP 503, 2 checks)", shop.base)
    );
    // More failed checks while down: no more email.
    let hits = shop.hits.load(Ordering::SeqCst);
    wait_until("two more checks", async || {
        shop.hits.load(Ordering::SeqCst) >= hits + 2
    })
    .await;
    shop.up.store(true, Ordering::SeqCst);
    wait_until("recovered", async || status().await == MonitorStatus::Ok).await;
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert!(
        mails[1]
            .subject()
            .starts_with(&format!("[default] {}/ recovered after", shop.base)),
        "{}",
        mails[1].subject()
    );
    let (text, _) = mails[1].parts();
    assert!(text.contains("/monitors/"), "{text}");
    // Up for a while longer: still two emails.
    let hits = shop.hits.load(Ordering::SeqCst);
    wait_until("two more checks", async || {
        shop.hits.load(Ordering::SeqCst) >= hits + 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 2);
    // The checks are on record, with response times, and the uptime counts them.
    let detail = api_json(server, &token, &format!("/api/v1/monitors/{id}")).await;
    let day = detail["uptime"]["day"].as_f64().unwrap();
    assert!(day > 0.0 && day < 100.0, "{detail}");
    let rows = checkins(server, &token, id).await;
    assert!(
        rows.iter()
            .any(|r| r["http_status"] == 503 && r["status"] == "error")
    );
    assert!(rows.iter().all(|r| r["duration_ms"].is_i64()));
}

/// A site with a sitemap index pointing at a gzipped sitemap of three pages, one of
/// which answers 500; counts the requests of each page and their User-Agent.
async fn shop_with_sitemap() -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let index = format!(
        r#"<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{base}/sitemap-pages.xml.gz</loc></sitemap></sitemapindex>"#
    );
    let pages = format!(
        r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}/</loc></url><url><loc>{base}/about</loc></url><url><loc>{base}/checkout</loc></url></urlset>"#
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(pages.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let checkouts = Arc::new(AtomicUsize::new(0));
    let agents = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (count, seen) = (checkouts.clone(), agents.clone());
    let app = Router::new()
        .route("/sitemap.xml", get(move || async move { index }))
        .route("/sitemap-pages.xml.gz", get(move || async move { gz }))
        .route("/", get(|| async { "home" }))
        .route("/about", get(|| async { "about" }))
        .route(
            "/checkout",
            get(move |headers: axum::http::HeaderMap| {
                let (count, seen) = (count.clone(), seen.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    let agent = headers
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    seen.lock().unwrap().push(agent);
                    (StatusCode::INTERNAL_SERVER_ERROR, "bundle exploded")
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, checkouts, agents)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_page_of_the_sitemap_becomes_one_issue() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--allow-private-targets"]).await;
    let token = server.token("root@example.com", true).await;
    let (base, checkouts, agents) = shop_with_sitemap().await;
    let created = client()
        .post(format!(
            "{}/api/v1/projects/{}/monitors",
            server.base, server.project_id
        ))
        .bearer_auth(&token)
        .json(
            &json!({"kind": "sitemap", "name": "Shop pages", "url": format!("{base}/sitemap.xml"),
                      "concurrency": 2}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let scheduler = Scheduler::new(server.state.clone());
    for run in 1..=2 {
        // Each run is due at once when the clock has moved an interval on.
        let report = scheduler
            .tick(now_ms() + (run - 1) * 61 * MINUTE)
            .await
            .unwrap();
        assert_eq!(report.started, 1, "run {run}");
        wait_until("the run's result", async || {
            checkins(&server, &token, id).await.len() == run as usize
        })
        .await;
    }
    assert_eq!(checkouts.load(Ordering::SeqCst), 2);
    assert!(
        agents
            .lock()
            .unwrap()
            .iter()
            .all(|a| a.starts_with("Mayday-Smoke/")),
        "{agents:?}"
    );
    let issues = server.issues_up_to(100).await;
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0].title, "HTTP 500 on GET /checkout");
    assert_eq!(issues[0].event_count, 2);
    let rows = checkins(&server, &token, id).await;
    assert_eq!(rows[0]["status"], "error");
    assert_eq!(rows[0]["summary"]["checked"], 3);
    assert_eq!(rows[0]["summary"]["failed"], 1);
    assert_eq!(rows[0]["error"], "1 of 3 pages failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_collectors_run_each_check_once() {
    for db in common::databases().await {
        let first = TestServer::start(&db, &["--allow-private-targets"]).await;
        let second = TestServer::join(&db, &["--allow-private-targets"], &first).await;
        let shop = site().await;
        let created = mayday_collector::monitors::create(
            &first.state.store,
            mayday_collector::audit::Actor::Cli,
            mayday_collector::monitors::MonitorRules::of(&first.state.config),
            first.project_id,
            common::uptime_check("Shop", &format!("{}/", shop.base), 60),
        )
        .await
        .unwrap();
        let (a, b) = (
            Scheduler::new(first.state.clone()),
            Scheduler::new(second.state.clone()),
        );
        // Both collectors find it due at the same moments; each check runs once.
        for round in 0..3 {
            let now = now_ms() + round * 61_000;
            let (ra, rb) = tokio::join!(a.tick(now), b.tick(now));
            let started = ra.unwrap().started + rb.unwrap().started;
            assert_eq!(started, 1, "{} round {round}", db.kind);
            let recorded = usize::try_from(round + 1).unwrap();
            wait_until("the check recorded", async || {
                first
                    .state
                    .store
                    .monitor_results(created.id, 10, None)
                    .await
                    .unwrap()
                    .len()
                    == recorded
            })
            .await;
        }
        assert_eq!(shop.hits.load(Ordering::SeqCst), 3, "{}", db.kind);

        // Check-ins arriving at both collectors at once: every one counted.
        let url = |server: &TestServer| {
            format!(
                "{}/api/{}/cron/etl/{}/?status=ok",
                server.base, server.project_id, server.key
            )
        };
        let mut sends = Vec::new();
        for i in 0..20 {
            let target = if i % 2 == 0 {
                url(&first)
            } else {
                url(&second)
            };
            sends.push(tokio::spawn(async move {
                client().get(target).send().await.unwrap().status()
            }));
        }
        for send in sends {
            assert_eq!(send.await.unwrap(), StatusCode::ACCEPTED);
        }
        let etl = first
            .state
            .store
            .monitor_by_slug(first.project_id, "etl")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(etl.consecutive_ok, 20, "{}", db.kind);
        assert_eq!(
            first
                .state
                .store
                .monitor_results(etl.id, 100, None)
                .await
                .unwrap()
                .len(),
            20
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_stay_inert_and_members_cannot_manage() {
    let mail = common::with_mail(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let admin = server.token("root@example.com", true).await;
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;

    // A check-in's environment is the job's to choose: escaped everywhere it shows.
    let hostile = "<script>alert(1)</script>\r\nBcc: victim@example.com";
    let answer = client()
        .post(format!(
            "{}/api/{}/cron/backup/{}/",
            server.base, server.project_id, server.key
        ))
        .json(&json!({"status": "error", "environment": hostile}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails[0].recipients, ["team@shop.example"]);
    let subject = mails[0].subject();
    assert!(
        !subject.contains('\n') && subject.ends_with("Monitor backup failed"),
        "{subject}"
    );
    let (_, html) = mails[0].parts();
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "{html}"
    );

    // Members see monitors; only admins create them.
    let body = json!({"kind": "http", "name": "<img src=x onerror=alert(2)>",
                      "url": "https://shop.example/"});
    let url = format!(
        "{}/api/v1/projects/{}/monitors",
        server.base, server.project_id
    );
    let refused = client()
        .post(&url)
        .bearer_auth(&member)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let created = client()
        .post(&url)
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    // The collector may not reach private addresses unless allowed: shop.example does
    // not resolve here, so this is refused with a reason, as a private one would be.
    assert_eq!(created.status(), StatusCode::BAD_REQUEST);
    assert!(
        created.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("shop.example")
    );
    let private = json!({"kind": "http", "name": "Internal", "url": "http://127.0.0.1:9/"});
    let created = client()
        .post(&url)
        .bearer_auth(&admin)
        .json(&private)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::BAD_REQUEST);
    let detail = created.json::<Value>().await.unwrap()["detail"].to_string();
    assert!(detail.contains("MAYDAY_ALLOW_PRIVATE_TARGETS"), "{detail}");
    let line_break = json!({"kind": "http", "name": "a\r\nb", "url": "http://127.0.0.1:9/"});
    let created = client()
        .post(&url)
        .bearer_auth(&admin)
        .json(&line_break)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::BAD_REQUEST);

    // The pages escape what a check-in brought.
    let cookie = common::sign_in(server, "member@example.com", "correct horse battery").await;
    let (status, page) = common::page(
        server,
        &cookie,
        &format!("/projects/{}/monitors", server.project_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("backup") && !page.contains("Add a monitor"),
        "members see no forms"
    );
    let id = monitor_json(server, &member, "backup").await["id"]
        .as_i64()
        .unwrap();
    let (status, page) = common::page(
        server,
        &cookie,
        &format!("/projects/{}/monitors/{id}", server.project_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert(1)") && page.contains("&lt;script&gt;"));
    assert!(page.contains("<svg class=\"strip\""), "the results strip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_pause_change_and_remove_monitors_in_the_ui() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--allow-private-targets"]).await;
    server.token("lead@example.com", false).await;
    let account = server
        .state
        .store
        .account_by_email("lead@example.com")
        .await
        .unwrap();
    server
        .state
        .store
        .add_member(
            server.project_id,
            account.id,
            mayday_collector::store::ProjectRole::Admin,
        )
        .await
        .unwrap();
    let cookie = common::sign_in(&server, "lead@example.com", "correct horse battery").await;
    let list = format!("/projects/{}/monitors", server.project_id);
    let (_, page) = common::page(&server, &cookie, &list).await;
    assert!(page.contains("Add a monitor"));
    let csrf = common::csrf_in(&page);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let (cookie, csrf, base) = (cookie.clone(), csrf.clone(), server.base.clone());
        async move {
            let mut fields = fields;
            fields.push(("csrf", csrf));
            client()
                .post(format!("{base}{path}"))
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let created = post(
        list.clone(),
        vec![
            ("action", "create".into()),
            ("kind", "http".into()),
            ("name", "Shop home".into()),
            ("url", "http://127.0.0.1:9/".into()),
            ("interval_seconds", "30".into()),
            ("keyword", "".into()),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{list}/")), "{location}");
    let (_, page) = common::page(&server, &cookie, &location).await;
    assert!(
        page.contains("Shop home") && page.contains("30 s"),
        "{page}"
    );

    let paused = post(location.clone(), vec![("action", "pause".into())]).await;
    let page = paused.text().await.unwrap();
    assert!(page.contains("Paused.") && page.contains("(paused)"));
    let bad = post(
        location.clone(),
        vec![("action", "update".into()), ("failures", "two".into())],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::OK);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("failures must be a whole number")
    );
    let changed = post(
        location.clone(),
        vec![("action", "update".into()), ("failures", "5".into())],
    )
    .await;
    assert!(
        changed
            .text()
            .await
            .unwrap()
            .contains("5 failed checks in a row")
    );
    let duplicate = post(
        list.clone(),
        vec![
            ("action", "create".into()),
            ("kind", "http".into()),
            ("name", "Shop home".into()),
            ("url", "http://127.0.0.1:9/".into()),
        ],
    )
    .await;
    assert!(duplicate.text().await.unwrap().contains("already exists"));
    let removed = post(location.clone(), vec![("action", "delete".into())]).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (status, _) = common::page(&server, &cookie, &location).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let audit: Vec<_> = server
        .state
        .store
        .audit_log(server.project_id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.to_string())
        .collect();
    assert!(
        audit.contains(&"monitor_added".to_owned())
            && audit.contains(&"monitor_removed".to_owned()),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_certificate_is_warned_about_once_per_certificate() {
    use mayday_collector::monitors::runs::{CheckResult, record_check};
    for db in common::databases().await {
        let server = TestServer::start(&db, &["--allow-private-targets"]).await;
        let store = &server.state.store;
        store
            .add_recipient(server.project_id, "ops@shop.example")
            .await
            .unwrap();
        let monitor = mayday_collector::monitors::create(
            store,
            mayday_collector::audit::Actor::Cli,
            mayday_collector::monitors::MonitorRules::of(&server.state.config),
            server.project_id,
            common::uptime_check("Shop", "https://127.0.0.1:9/", 60),
        )
        .await
        .unwrap();
        let day = 86_400_000;
        let now = now_ms();
        let check = |expires: i64| CheckResult {
            started_at: now,
            duration_ms: 12,
            http_status: Some(200),
            error: None,
            cert_expires_at: Some(expires),
            summary: None,
        };
        // Expiring in 5 days, seen twice: one warning. Renewed for 90 days: none.
        // The new one nears its end: warned again.
        for expires in [now + 5 * day, now + 5 * day, now + 90 * day, now + 90 * day] {
            record_check(store, monitor.id, check(expires), now)
                .await
                .unwrap();
        }
        record_check(store, monitor.id, check(now + 90 * day), now + 80 * day)
            .await
            .unwrap();
        let warnings = store
            .notifications(server.project_id, None, 20)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.kind == NotificationKind::CertificateExpiring)
            .count();
        assert_eq!(warnings, 2, "{}", db.kind);
        let row = store.monitor(monitor.id).await.unwrap();
        assert_eq!(row.cert_expires_at, Some(now + 90 * day));
        assert_eq!(row.status, MonitorStatus::Ok);

        // Results are kept as long as events: older ones go.
        assert_eq!(
            store
                .monitor_results(monitor.id, 100, None)
                .await
                .unwrap()
                .len(),
            5
        );
        let pruned = store.prune_monitor_results(now + 1).await.unwrap();
        assert_eq!(pruned, 5, "{}", db.kind);
    }
}

/// One project's sixteen uptime checks of a server that never answers (1 s interval,
/// 120 s timeout) take at most their project's share of the slots: another project's
/// check keeps its interval, its overdue cron job is marked missed at once, and no tick
/// waits for a slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_projects_slow_targets_do_not_starve_another_project() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--allow-private-targets"]).await;
    let store = &server.state.store;
    let rules = mayday_collector::monitors::MonitorRules::of(&server.state.config);
    // A server that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());
    let held = Arc::new(std::sync::Mutex::new(Vec::new()));
    let holder = held.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = silent.accept().await {
            holder.lock().unwrap().push(socket);
        }
    });
    for n in 0..16 {
        let mut slow = common::uptime_check(&format!("slow {n}"), &silent_url, 1);
        if let mayday_collector::monitors::MonitorSpec::Http(http) = &mut slow.spec {
            http.timeout_seconds = 120;
        }
        mayday_collector::monitors::create(store, Actor::Cli, rules, server.project_id, slow)
            .await
            .unwrap();
    }
    let other = store.create_project("other").await.unwrap().project.id;
    let shop = site().await;
    let check = mayday_collector::monitors::create(
        store,
        Actor::Cli,
        rules,
        other,
        common::uptime_check("Shop", &format!("{}/", shop.base), 1),
    )
    .await
    .unwrap();
    let cron: mayday_protocol::CheckIn = serde_json::from_value(json!({
        "monitor_slug": "nightly", "status": "ok",
        "monitor_config": {"schedule": {"type": "interval", "value": 1, "unit": "minute"},
                           "checkin_margin": 1}
    }))
    .unwrap();
    let start = now_ms();
    mayday_collector::monitors::check_ins::record(store, 100, other, cron, start)
        .await
        .unwrap();

    let scheduler = Scheduler::new(server.state.clone());
    for round in 0..5_i64 {
        // Each tick a second later than the last on the scheduler's clock; past the
        // cron job's margin from the second one on.
        let now = start + 3 * MINUTE + round * 1_000;
        let report = tokio::time::timeout(Duration::from_secs(5), scheduler.tick(now))
            .await
            .expect("a tick never waits for a slot")
            .unwrap();
        if round == 0 {
            assert_eq!(report.missed, 1, "the overdue cron job, at once");
            assert_eq!(
                report.started, 5,
                "four slow checks and the other project's"
            );
        } else {
            assert_eq!(report.started, 1, "round {round}: {report:?}");
            assert_eq!(report.deferred, 4, "the slow project's next checks wait");
        }
        let recorded = usize::try_from(round + 1).unwrap();
        wait_until("the other project's check recorded", async || {
            store
                .monitor_results(check.id, 10, None)
                .await
                .unwrap()
                .len()
                == recorded
        })
        .await;
    }
    assert_eq!(
        shop.hits.load(Ordering::SeqCst),
        5,
        "one check per interval"
    );
    assert_eq!(
        held.lock().unwrap().len(),
        4,
        "the slow project holds 4 slots, no more"
    );
}

/// Envelope check-ins sent at once are recorded in batches (one transaction for what
/// arrives together), with every state change exact: two collectors on one database,
/// 40 jobs each starting and finishing a run, in parallel, plus one slug that is not a
/// cron monitor (refused alone, the others in its batch kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_at_once_are_batched_with_exact_state_changes() {
    const JOBS: usize = 40;
    for db in common::databases().await {
        // An uptime check on loopback (never run here) is the monitor of another kind.
        let first = TestServer::start(&db, &["--allow-private-targets"]).await;
        let second = TestServer::join(&db, &["--allow-private-targets"], &first).await;
        let token = first.token("member@example.com", false).await;
        first.add_member("member@example.com").await;
        mayday_collector::monitors::create(
            &first.state.store,
            Actor::Cli,
            mayday_collector::monitors::MonitorRules::of(&first.state.config),
            first.project_id,
            common::uptime_check("Shop", "http://127.0.0.1:9/", 60),
        )
        .await
        .unwrap();
        let send = |server: &TestServer, slug: String, id: String, status: &'static str| {
            let url = format!("{}/api/{}/envelope/", server.base, server.project_id);
            let auth = format!("Sentry sentry_version=7, sentry_key={}", server.key);
            async move {
                let item = json!({"check_in_id": id, "monitor_slug": slug, "status": status,
                                  "duration": 1.5, "environment": "production"})
                .to_string();
                let body = format!(
                    "{{}}\n{{\"type\":\"check_in\",\"length\":{}}}\n{item}\n",
                    item.len()
                );
                let response = client()
                    .post(url)
                    .header("x-sentry-auth", auth)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        let id = |job: usize| format!("{:032x}", job + 1);
        // All the starts at once, half through each collector; then all the ends, each
        // through the collector its start did not go through.
        for (round, status) in ["in_progress", "ok"].into_iter().enumerate() {
            let sends = (0..JOBS).map(|job| {
                let server = if (job + round) % 2 == 0 {
                    &first
                } else {
                    &second
                };
                send(server, format!("job-{job:02}"), id(job), status)
            });
            for (status, body) in futures_util::future::join_all(sends).await {
                assert_eq!(status, StatusCode::OK, "{} {body}", db.kind);
            }
        }
        let (refused, body) = send(&first, "shop".into(), id(99), "ok").await;
        assert_eq!(refused, StatusCode::BAD_REQUEST, "{} {body}", db.kind);
        assert!(body.contains("not a cron monitor"), "{body}");

        for job in 0..JOBS {
            let monitor = monitor_json(&first, &token, &format!("job-{job:02}")).await;
            assert_eq!(monitor["status"], "ok", "{} job {job}: {monitor}", db.kind);
            let rows = checkins(&first, &token, monitor["id"].as_i64().unwrap()).await;
            assert_eq!(rows.len(), 1, "{} job {job}: one run, {rows:#?}", db.kind);
            assert_eq!(rows[0]["status"], "ok");
            assert_eq!(rows[0]["check_in_id"], id(job));
            assert_eq!(rows[0]["duration_ms"], 1500);
            assert_eq!(rows[0]["environment"], "production");
        }
        let list = api_json(
            &first,
            &token,
            &format!("/api/v1/projects/{}/monitors", first.project_id),
        )
        .await;
        assert_eq!(
            list["monitors"].as_array().unwrap().len(),
            JOBS + 1,
            "{}: each job's monitor created once, whichever collector saw it first",
            db.kind
        );
    }
}
