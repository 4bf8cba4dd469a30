//! The demo apps as users deploy them: release binaries (`cargo build --release` with
//! `debug = "line-tables-only"`, the workspace's release profile), reporting to a real
//! collector over loopback. Culprits, in-app frames, trimming and grouping are checked on
//! what the collector stored, for the tower layer (axum) and the actix-web middleware.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::TestServer;
use serde_json::Value;

/// Builds both demo apps in release, once per run of this test binary (cargo does
/// nothing when they are up to date); returns the path of each binary by package name.
pub(crate) fn release_binaries() -> &'static [(String, PathBuf)] {
    static BUILT: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--release", "--message-format=json"])
            .args(["-p", "axum-app", "-p", "actix-app"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "release build of the demo apps");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter_map(|message| {
                let name = message["target"]["name"].as_str()?.to_owned();
                let path = message["executable"].as_str()?;
                Some((name, PathBuf::from(path)))
            })
            .collect()
    })
}

/// A demo app binary running on an ephemeral port; killed when dropped.
pub(crate) struct RunningApp {
    child: Child,
    pub(crate) base: String,
    /// What it printed before it listened.
    startup: Vec<String>,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningApp {
    pub(crate) fn start(package: &str, dsn: &str) -> RunningApp {
        let binary = release_binaries()
            .iter()
            .find(|(name, _)| name == package)
            .map(|(_, path)| path.clone())
            .unwrap_or_else(|| panic!("{package} was built"));
        RunningApp::start_binary(&binary, dsn)
    }

    /// The demo app at `binary` (a copy, stripped, say).
    pub(crate) fn start_binary(binary: &std::path::Path, dsn: &str) -> RunningApp {
        let mut child = Command::new(binary)
            .env("MAYDAY_DSN", dsn)
            .env("MAYDAY_ENVIRONMENT", "production")
            .env("PORT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the demo app starts");
        // It logs where it reports to first, then prints "demo shop ... on
        // http://127.0.0.1:PORT" once it listens.
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut startup = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("the app says where it listens")
                .expect("readable stderr");
            if line.starts_with("demo shop")
                && let Some(at) = line.find("http://")
            {
                break line[at..].trim().to_owned();
            }
            startup.push(line);
        };
        // Keep draining stderr so the app never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        RunningApp {
            child,
            base,
            startup,
        }
    }
}

pub(crate) const USERS: [&str; 2] = [
    "42:jane@example.com:Jane Doe",
    "7:omar@example.com:Omar Haddad",
];

pub(crate) async fn get(url: &str, user: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("x-demo-user", user)
        .send()
        .await
        .expect("the app answers")
}

async fn api(server: &TestServer, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers")
        .json()
        .await
        .expect("JSON")
}

/// The project's issues once `expected` events have arrived (the apps report in the
/// background).
async fn issues_after(server: &TestServer, token: &str, expected: u64) -> Vec<Value> {
    let path = format!("/api/v1/projects/{}/issues", server.project_id);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let issues = api(server, token, &path).await["issues"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let events: u64 = issues.iter().filter_map(|i| i["count"].as_u64()).sum();
        if events >= expected || Instant::now() > deadline {
            assert_eq!(events, expected, "events stored: {issues:#?}");
            return issues;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn function(frame: &Value) -> &str {
    frame["function"].as_str().unwrap_or_default()
}

/// What every stored stack trace of a release build must look like.
fn check_frames(event: &Value, krate: &str, culprit_prefix: &str) {
    let exception = event["payload"]["exception"]["values"]
        .as_array()
        .and_then(|values| values.last())
        .expect("an exception");
    let frames = exception["stacktrace"]["frames"]
        .as_array()
        .expect("a stack trace");
    assert!(
        frames.len() <= 50,
        "at most 50 frames, got {}",
        frames.len()
    );
    let innermost = frames.last().expect("frames");
    assert_eq!(innermost["in_app"], true, "innermost: {innermost:#}");
    assert!(
        function(innermost).starts_with(culprit_prefix),
        "the panic site or `?` site is the innermost frame: {innermost:#}"
    );
    assert!(
        innermost["filename"]
            .as_str()
            .is_some_and(|f| f.starts_with("src/"))
            && innermost["lineno"].as_u64().is_some_and(|l| l > 0),
        "file and line in a line-tables build: {innermost:#}"
    );
    let module = innermost["module"].as_str().expect("module filled");
    assert!(
        module.starts_with(krate) && function(innermost).starts_with(&format!("{module}::")),
        "module of {innermost:#}"
    );
    for frame in frames {
        let name = function(frame);
        // The panic machinery and the capture (above the panic site) are gone; the
        // layer's own `catch_unwind` further out stays, not in-app.
        for machinery in [
            "std::panicking::begin_panic",
            "std::panicking::panic_with_hook",
            "core::panicking",
            "backtrace::",
            "mayday_reporter::hook",
            "mayday_reporter::error",
            "std::rt::lang_start",
        ] {
            assert!(!name.starts_with(machinery), "trimmed: {frame:#}");
        }
        let package = frame["package"].as_str().unwrap_or_default();
        if frame["in_app"] == true {
            assert_eq!(package, krate, "only the app is in-app: {frame:#}");
            assert!(
                name.starts_with(&format!("{krate}::")),
                "full path: {frame:#}"
            );
        }
        if [
            "mayday_reporter",
            "tokio",
            "axum",
            "actix_web",
            "std",
            "core",
        ]
        .contains(&package)
        {
            assert_eq!(frame["in_app"], false, "not the app's code: {frame:#}");
        }
    }
}

async fn release_build_reports_right_culprits_frames_and_groups(package: &str, krate: &str) {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;
    let app = RunningApp::start(package, &server.dsn);
    // It says where it reports to before anything happens.
    let said = format!(
        "reporting to {} (project {})",
        server.base, server.project_id
    );
    assert!(
        app.startup.iter().any(|line| line.contains(&said)),
        "{said:?} at start: {:?}",
        app.startup
    );

    // Two panics in two functions, the second with three different indices, and an
    // error returned with `?`.
    let mut event_ids = Vec::new();
    for user in USERS {
        let response = get(&format!("{}/panic", app.base), user).await;
        assert_eq!(response.status(), 500);
        let id = response.headers()["x-mayday-event-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = response.text().await.unwrap();
        assert!(
            page.contains(&id),
            "the error page shows the event id: {page}"
        );
        event_ids.push(id);
    }
    for line in [3, 4, 5] {
        let response = get(&format!("{}/cart/{line}", app.base), USERS[0]).await;
        assert_eq!(response.status(), 500);
    }
    let response = get(&format!("{}/error", app.base), USERS[1]).await;
    assert_eq!(response.status(), 500);
    assert!(response.headers().contains_key("x-mayday-event-id"));

    let issues = issues_after(&server, &token, 6).await;
    let by_culprit = |prefix: String| {
        issues
            .iter()
            .find(|i| {
                i["culprit"]
                    .as_str()
                    .is_some_and(|c| c.starts_with(&prefix))
            })
            .unwrap_or_else(|| panic!("an issue with culprit {prefix}: {issues:#?}"))
            .clone()
    };
    assert_eq!(issues.len(), 3, "two panics and an error: {issues:#?}");
    let coupon = by_culprit(format!("{krate}::checkout::apply_coupon"));
    assert_eq!(
        coupon["culprit"],
        format!("{krate}::checkout::apply_coupon")
    );
    assert_eq!(coupon["count"], 2);
    assert_eq!(coupon["user_count"], 2);
    let cart = by_culprit(format!("{krate}::cart::line_price"));
    assert_eq!(cart["count"], 3, "index 3, 4 and 5 are one bug");
    assert!(
        cart["title"]
            .as_str()
            .is_some_and(|t| t.contains("index out of bounds"))
    );
    let error = by_culprit(format!("{krate}::orders::failing"));
    assert_eq!(error["count"], 1);
    assert!(
        error["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("OrderError")),
        "{error:#}"
    );

    for (issue, culprit) in [
        (&coupon, format!("{krate}::checkout::apply_coupon")),
        (&cart, format!("{krate}::cart::line_price")),
        (&error, format!("{krate}::orders::failing")),
    ] {
        let events = api(
            &server,
            &token,
            &format!("/api/v1/issues/{}/events", issue["id"]),
        )
        .await;
        for event in events["events"].as_array().expect("events") {
            check_frames(event, krate, &culprit);
            assert_eq!(
                event["payload"]["contexts"]["runtime"]["profile"], "release",
                "a release build"
            );
        }
    }
    // The ids the app showed its users are the ids of stored events.
    let events = api(
        &server,
        &token,
        &format!("/api/v1/issues/{}/events", coupon["id"]),
    )
    .await;
    let stored: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    for id in &event_ids {
        assert!(stored.contains(&id.as_str()), "{id} in {stored:?}");
    }

    // A browser gets the reporter's error page, the signed-in user filled in, and its
    // form's words reach the collector as feedback on the event.
    let client = reqwest::Client::new();
    for route in ["/panic", "/error"] {
        let response = client
            .get(format!("{}{route}", app.base))
            .header("x-demo-user", USERS[0])
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500, "{route}");
        let id = response.headers()["x-mayday-event-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = response.text().await.unwrap();
        assert!(page.contains("What were you doing?"), "{route}: {page}");
        assert!(page.contains(&format!("value=\"{id}\"")), "{page}");
        assert!(page.contains("value=\"Jane Doe\""), "prefilled: {page}");
        let sent = client
            .post(format!("{}/_mayday/feedback", app.base))
            .form(&[
                ("event_id", id.as_str()),
                ("name", "Jane Doe"),
                ("email", "jane@example.com"),
                ("message", &format!("I was on {route}")),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200, "{route}");
        assert!(
            sent.text()
                .await
                .unwrap()
                .contains("your words reached the team")
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let said = api(
            &server,
            &token,
            &format!("/api/v1/projects/{}/feedback", server.project_id),
        )
        .await;
        let said = said["feedback"].as_array().cloned().unwrap_or_default();
        // Each with its event's issue (the event may land just after its feedback).
        if said.len() == 2 && said.iter().all(|f| f["issue_id"].is_i64()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "feedback: {said:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_app_in_release() {
    release_build_reports_right_culprits_frames_and_groups("axum-app", "axum_app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_app_in_release() {
    release_build_reports_right_culprits_frames_and_groups("actix-app", "actix_app").await;
}
