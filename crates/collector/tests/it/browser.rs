//! The UI in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
//! over WebDriver): the newcomer's path from first crash to resolved, and hostile event
//! data that must run nothing. Screenshots go to `target/screenshots/`.

use crate::common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{TestServer, ingest};
use fantoccini::{Client, ClientBuilder, Locator};
use mayday_collector::store::ProjectRole;
use serde_json::json;

/// A chromedriver process on a free port, in a process group of its own with the
/// Chromium it starts; the whole group is killed when dropped, so no browser outlives
/// the test, even one that fails before closing its session.
pub(crate) struct Driver {
    child: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.child.start_kill();
    }
}

pub(crate) async fn browser() -> (Driver, Client) {
    let port = common::smtp::SmtpServer::free_port();
    let child = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .process_group(0)
        .spawn()
        .expect("chromedriver runs (apt-get install chromium chromium-driver)");
    let profile = tempfile::tempdir().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    (
        Driver {
            child,
            _profile: profile,
        },
        client,
    )
}

pub(crate) async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// axe-core's script, from the npm registry, installed under the target directory on
/// first use (tests of this binary take turns installing).
pub(crate) async fn axe_script() -> String {
    static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = INSTALLING.lock().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("node-axe");
    let script = dir.join("node_modules/axe-core/axe.min.js");
    if !script.is_file() {
        let status = tokio::process::Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("axe-core@4")
            .status()
            .await
            .expect("npm runs (apt-get install npm)");
        assert!(status.success(), "installing axe-core from npm failed");
    }
    std::fs::read_to_string(&script).expect("axe.min.js")
}

/// The serious and critical accessibility violations axe-core finds on the current
/// page, each as "rule: how many elements (the first few)".
pub(crate) async fn axe_violations(client: &Client, axe: &str) -> Vec<String> {
    client
        .execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe-core loads");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document).then(result => done(result.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.id + ': ' + v.nodes.length + ' (' +
                 v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ') + ')')));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    found
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Where the element `css` ends, from the top of the page (px), if it is there.
async fn bottom_of(client: &Client, css: &str) -> Option<f64> {
    client
        .execute(
            "const e = document.querySelector(arguments[0]); \
             return e ? e.getBoundingClientRect().bottom + window.scrollY : null;",
            vec![json!(css)],
        )
        .await
        .unwrap()
        .as_f64()
}

pub(crate) async fn fill(client: &Client, name: &str, value: &str) {
    client
        .find(Locator::Css(&format!("input[name={name}]")))
        .await
        .unwrap()
        .send_keys(value)
        .await
        .unwrap();
}

/// Clicks the button labelled `label` and waits until the page the form leads to has
/// loaded (a `goto` right after the click could otherwise be overtaken by the form's
/// own navigation).
pub(crate) async fn submit(client: &Client, label: &str) {
    client
        .execute("window.__maydayBeforeSubmit = true", vec![])
        .await
        .unwrap();
    client
        .find(Locator::XPath(&format!(
            "//button[normalize-space()='{label}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let loaded = client
            .execute(
                "return window.__maydayBeforeSubmit === undefined \
                 && document.readyState === 'complete'",
                vec![],
            )
            .await
            .unwrap_or(json!(false));
        if loaded == json!(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the form's page loads after {label}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_signs_in_sees_the_crash_and_resolves_it() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    // The demo app's /panic, through mayday-reporter, signed in as Jane.
    let (reporter, app_url) = common::demo_app(&server, "production").await;
    let response = reqwest::Client::new()
        .get(format!("{app_url}/panic?bundle=team"))
        .header("x-demo-user", "42:jane@example.com:Jane Doe")
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    // The error page's reference: what a customer reads out from a screenshot.
    let event_id = response
        .headers()
        .get("x-mayday-event-id")
        .and_then(|v| v.to_str().ok())
        .expect("the event id header")
        .to_owned();
    assert!(reporter.flush(Duration::from_secs(10)).await);

    let (_driver, client) = browser().await;
    client
        .goto(&format!("{}/login", server.base))
        .await
        .unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/setup"),
        "first run"
    );
    fill(&client, "email", "admin@example.com").await;
    fill(&client, "name", "Admin").await;
    fill(&client, "password", "correct horse battery").await;
    submit(&client, "Create and sign in").await;

    client
        .find(Locator::LinkText("default"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title = "panic: coupon BLACKFRIDAY is not in the discount table";
    client
        .find(Locator::LinkText(title))
        .await
        .expect("the issue is listed");
    screenshot(&client, "issue-list").await;
    client
        .find(Locator::LinkText(title))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let page = client.source().await.unwrap();
    assert!(page.contains("jane@example.com"), "the user's email");
    assert!(
        page.contains("axum_app::checkout::apply_coupon"),
        "the panicking function"
    );
    assert!(page.contains("Firefox 86 on Windows 10"));
    let mailto = client
        .find(Locator::Css("a[href^='mailto:']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap();
    assert_eq!(mailto.as_deref(), Some("mailto:jane@example.com"));
    screenshot(&client, "issue-page").await;

    // The first screen holds the title, the actions and who it happened to, on a
    // desktop and on a phone.
    let issue_url = client.current_url().await.unwrap().to_string();
    for (width, height) in [(1280u32, 900u32), (390, 844)] {
        client.set_window_size(width, height).await.unwrap();
        client.goto(&issue_url).await.unwrap();
        let inner = client
            .execute("return window.innerHeight", vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        screenshot(&client, &format!("issue-first-screen-{width}")).await;
        for what in ["#highlights", "div.actions", "h1.issue-title"] {
            let bottom = bottom_of(&client, what).await.expect(what);
            assert!(
                bottom <= inner,
                "{what} ends {bottom} px down at {width}x{height}: below the first screen ({inner} px)"
            );
        }
        let highlights = client
            .find(Locator::Id("highlights"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for shown in [
            "Jane Doe",
            "jane@example.com",
            "GET",
            "/panic?bundle=team",
            "Firefox 86",
        ] {
            assert!(
                highlights.contains(shown),
                "{shown} on the first screen: {highlights}"
            );
        }
        screenshot(&client, &format!("issue-first-screen-{width}")).await;
    }
    client.set_window_size(1280, 900).await.unwrap();

    // The reference from the error page, pasted into the search box, opens the event.
    client
        .goto(&format!(
            "{}/projects/{}/issues",
            server.base, server.project_id
        ))
        .await
        .unwrap();
    fill(&client, "query", &event_id[..8]).await;
    submit(&client, "Filter").await;
    let opened = client.current_url().await.unwrap().to_string();
    assert!(
        opened.ends_with(&format!("/events/{}", event_id.replace('-', ""))),
        "the pasted id opened its event: {opened}"
    );
    client.goto(&issue_url).await.unwrap();

    submit(&client, "Resolve").await;
    let page = client.source().await.unwrap();
    assert!(page.contains("resolved"));
    client
        .goto(&format!(
            "{}/projects/{}/issues",
            server.base, server.project_id
        ))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(!page.contains(title), "it left the unresolved tab");
    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_event_data_runs_nothing_in_the_browser() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let payload = "<img src=x onerror=\"window.xssFired=1\"><script>window.xssFired=2</script>";
    ingest(
        &server,
        &json!({
            "message": payload,
            "user": {"id": payload, "email": format!("a@b.c\"><script>window.xssFired=3</script>"), "name": payload},
            "tags": {"t": payload},
            "request": {"url": "javascript:window.xssFired=4", "headers": {"X-Evil": payload}},
            "exception": {"values": [{"type": payload, "value": payload, "stacktrace": {"frames": [
                {"function": payload, "filename": payload, "in_app": true}
            ]}}]}
        }),
    )
    .await;
    let (_driver, client) = browser().await;
    client
        .goto(&format!("{}/setup", server.base))
        .await
        .unwrap();
    fill(&client, "email", "admin@example.com").await;
    fill(&client, "password", "correct horse battery").await;
    submit(&client, "Create and sign in").await;
    client
        .goto(&format!(
            "{}/projects/{}/issues/1",
            server.base, server.project_id
        ))
        .await
        .unwrap();
    let fired = client
        .execute("return window.xssFired === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(fired, json!(true), "no injected script or handler ran");
    let injected = client
        .execute(
            "return document.querySelectorAll('img, script:not([src=\"/static/copy.js\"])').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        injected,
        json!(0),
        "the payloads are text, not elements; the only script is ours"
    );
    let text = client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("<script>"), "shown as text: {text}");
    client.close().await.unwrap();
}

/// The layout from a phone to a wide screen, with long names: nothing wider than the
/// window, the crash above the charts and within the first screen, rows as cards on a
/// phone, the skip link first in the tab order. Screenshots per width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_from_a_phone_to_a_wide_screen() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    mayday_collector::accounts::create_account(
        &server.state.store,
        "admin@example.com",
        Some("Admin"),
        "correct horse battery",
        true,
    )
    .await
    .unwrap();
    let long_function = format!("shop::{}::apply_coupon", "very_long_module_name".repeat(12));
    let mut event = common::panic_event(&long_function, Some("42"));
    event["exception"]["values"][0]["value"] = json!(format!("bad coupon {}", "X".repeat(400)));
    event["extra"] = json!({"sql": "SELECT * FROM coupons WHERE code = ? ".repeat(100)});
    event["request"] = json!({"method": "GET", "url": format!("https://shop.example/checkout?{}", "bundle=team&".repeat(60))});
    ingest(&server, &event).await;
    // Long feedback about it, for the issue page and the Feedback page.
    server
        .state
        .store
        .add_feedback(
            server.project_id,
            mayday_collector::store::entities::FeedbackSource::UserReport,
            mayday_collector::store::NewFeedback {
                event_id: event["event_id"].as_str().map(str::to_owned),
                name: Some("Jane Doe-Longname ".repeat(5)),
                email: Some(format!("{}@example.com", "jane.doe.".repeat(8))),
                message: format!(
                    "I was applying a coupon {}",
                    "and nothing happened ".repeat(40)
                ),
                url: None,
            },
        )
        .await
        .unwrap();
    for n in 0..5 {
        ingest(
            &server,
            &common::panic_event(&format!("shop::step{n}"), None),
        )
        .await;
    }

    // A cron monitor with results, its page holding the strip and the chart.
    let check_in = format!(
        "{}/api/{}/cron/{}/{}/",
        server.base,
        server.project_id,
        "nightly-backup-of-the-whole-catalogue-and-the-orders-database",
        server.key
    );
    for status in ["ok", "error", "ok"] {
        let answer = common::client()
            .post(&check_in)
            .json(&json!({"status": status, "duration": 12.5, "environment": "production",
                          "monitor_config": {"schedule": {"type": "crontab", "value": "0 2 * * *"}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
    }
    let monitor = server
        .state
        .store
        .monitors(server.project_id)
        .await
        .unwrap()
        .remove(0);

    // Long names where pages show them: a member, a recipient, an affected user, and
    // the audit entries their changes made.
    let store = &server.state.store;
    let long = "someone.with.a.rather.long.name".repeat(2);
    let member = format!("{long}@a-rather-long-domain-of-the-company.example.com");
    mayday_collector::accounts::create_account(
        store,
        &member,
        Some(&long),
        "correct horse battery",
        false,
    )
    .await
    .unwrap();
    let cli = mayday_collector::audit::Actor::Cli;
    mayday_collector::membership::add(store, cli, server.project_id, &member, ProjectRole::Member)
        .await
        .unwrap();
    mayday_collector::projects::add_recipient(
        store,
        cli,
        server.project_id,
        &format!("alerts@{long}.example.com"),
    )
    .await
    .unwrap();
    let mut hurt = common::panic_event(&long_function, None);
    hurt["user"] = json!({"id": long, "email": member, "name": long});
    ingest(&server, &hurt).await;

    let axe = axe_script().await;
    let (_driver, client) = browser().await;
    client
        .goto(&format!("{}/login", server.base))
        .await
        .unwrap();
    let violations = axe_violations(&client, &axe).await;
    assert!(violations.is_empty(), "sign-in page: {violations:?}");
    fill(&client, "email", "admin@example.com").await;
    fill(&client, "password", "correct horse battery").await;
    submit(&client, "Sign in").await;

    let project = format!("{}/projects/{}", server.base, server.project_id);
    let list = format!("{project}/issues");
    let issue = format!("{list}/1");
    let monitors = format!("{project}/monitors");
    let monitor = format!("{monitors}/{}", monitor.id);
    // Two-factor setup under way: its page shows the QR code and the key.
    let admin_id = server
        .state
        .store
        .account_by_email("admin@example.com")
        .await
        .unwrap()
        .id;
    server
        .state
        .store
        .set_pending_totp(admin_id, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        .await
        .unwrap();
    // An alert rule with every kind of destination and long targets.
    let long = "a".repeat(120);
    let rule: mayday_collector::alerts::rule::RuleSpec = serde_json::from_value(json!({
        "name": "Checkout on fire: many events and many users on the checkout pages",
        "match": "all",
        "conditions": [{"kind": "event_frequency", "value": 50, "interval_minutes": 5},
                       {"kind": "user_frequency", "value": 10, "interval_minutes": 5}],
        "filters": [{"kind": "environment", "value": "production"},
                    {"kind": "url", "value": format!("*/checkout/{long}*")}],
        "actions": [{"kind": "email", "to": ["oncall-team-with-a-long-address@shop.example"]},
                    {"kind": "slack", "url": format!("https://hooks.slack.com/services/T000/B000/{long}")},
                    {"kind": "pagerduty", "routing_key": long}],
    }))
    .unwrap();
    // Stored as it is: the check of the targets would resolve names, and this machine
    // has no DNS.
    let (conditions, filters, actions) = rule.columns();
    server
        .state
        .store
        .add_alert_rule(
            server.project_id,
            mayday_collector::store::RuleRow {
                name: rule.name.clone(),
                match_mode: rule.match_mode.as_str().into(),
                conditions,
                filters,
                actions,
                throttle_minutes: None,
            },
        )
        .await
        .unwrap();
    for kind in [
        mayday_collector::store::entities::DebugFileKind::Elf,
        mayday_collector::store::entities::DebugFileKind::Sources,
    ] {
        server
            .state
            .store
            .add_debug_file(
                server.project_id,
                mayday_collector::store::NewDebugFile {
                    kind,
                    debug_id: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
                    code_id: Some("3e2d1c0b504f7261839405b6c7d8e9f0aabbccdd"),
                    name: &format!("shop-{}.debug", "very-long-build-name-".repeat(6)),
                    bytes: b"not read by this page",
                },
                1 << 30,
            )
            .await
            .unwrap();
    }
    // Two releases with long names and routes, counted and deployed, for the Releases
    // pages.
    let long_release = format!("shop@2.4.0-{}", "build".repeat(20));
    let now = mayday_collector::store::now_ms();
    for (release, failing, hours_ago) in [("shop@2.3.9", 1, 2), (long_release.as_str(), 30, 1)] {
        server
            .state
            .store
            .record_deploy(
                server.project_id,
                release,
                "production",
                now - hours_ago * 3_600_000,
            )
            .await
            .unwrap();
        let counts: Vec<mayday_collector::store::HealthCount> = (0..3)
            .map(|n| mayday_collector::store::HealthCount {
                release: release.to_owned(),
                environment: "production".into(),
                route: format!("POST /checkout/{}/{n}", "very_long_segment".repeat(6)),
                at: now - hours_ago * 3_600_000 + (i64::from(n) + 1) * 60_000,
                ok: 300,
                errored: failing,
                crashed: 1,
            })
            .collect();
        server
            .state
            .store
            .add_health(server.project_id, &counts)
            .await
            .unwrap();
    }
    let pages = [
        ("projects", format!("{}/", server.base)),
        ("list", list.clone()),
        ("list-all", format!("{list}?status=all")),
        ("issue", issue.clone()),
        ("events", format!("{issue}/events")),
        ("monitors", monitors.clone()),
        ("monitor", monitor),
        ("outreach", format!("{issue}/outreach")),
        ("settings", format!("{project}/settings")),
        ("audit", format!("{project}/audit")),
        ("alerts", format!("{project}/alerts")),
        ("debug-files", format!("{project}/debug-files")),
        ("feedback", format!("{project}/feedback")),
        ("releases", format!("{project}/releases")),
        (
            "release",
            format!("{project}/releases/{}", long_release.replace('@', "%40")),
        ),
        ("users", format!("{}/admin/users", server.base)),
        ("account", format!("{}/account", server.base)),
        ("two-factor", format!("{}/account/two-factor", server.base)),
    ];
    for width in [360u32, 390, 1280, 1920] {
        client.set_window_size(width, 900).await.unwrap();
        for (name, url) in &pages {
            client.goto(url).await.unwrap();
            if *name == "alerts" {
                // The forms too, not only the rules in words.
                client
                    .execute(
                        "document.querySelectorAll('details').forEach(d => d.open = true)",
                        vec![],
                    )
                    .await
                    .unwrap();
            }
            let sizes = client
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth]",
                    vec![],
                )
                .await
                .unwrap();
            let (scroll, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
            if scroll > inner {
                // Name the widest culprits, to say what to fix.
                let wide = client
                    .execute(
                        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().width) + ' ' + (e.textContent || '').slice(0, 30))",
                        vec![],
                    )
                    .await
                    .unwrap();
                panic!("{name} at {width} px: {scroll} px wide in a {inner} px window: {wide}");
            }
            if width == 390 || width == 1280 {
                let violations = axe_violations(&client, &axe).await;
                assert!(
                    violations.is_empty(),
                    "{name} at {width} px, axe-core: {violations:?}"
                );
            }
            screenshot(&client, &format!("{name}-{width}")).await;
            if *name == "monitor" {
                // The chart with its scale and time span, at this width.
                let labels = client
                    .execute(
                        "const f = document.querySelector('figure.chart'); f.scrollIntoView(); \
                         return [f.getBoundingClientRect().width, f.querySelector('.y-axis').innerText, \
                                 f.querySelector('.x-axis').innerText];",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert!(
                    labels[0].as_f64().unwrap() > f64::from(width.min(640)) * 0.7,
                    "the chart uses the width at {width} px: {labels}"
                );
                assert!(labels[1].as_str().unwrap().contains("ms"), "{labels}");
                screenshot(&client, &format!("{name}-chart-{width}")).await;
            }
            if *name == "releases" || *name == "release" {
                // The chart with a marker per deploy, and (on a release) the verdict
                // first, naming the route that got worse.
                let seen = client
                    .execute(
                        "const f = document.querySelector('figure.chart'); \
                         const v = document.querySelector('section[aria-label=\"Deploy check\"]'); \
                         return [f.querySelectorAll('line.deploy').length, f.querySelectorAll('rect.failed').length, \
                                 f.getBoundingClientRect().width, v ? v.innerText : ''];",
                        vec![],
                    )
                    .await
                    .unwrap();
                let deploys = if *name == "releases" { 2 } else { 1 };
                assert_eq!(seen[0], json!(deploys), "{name} at {width} px: {seen}");
                assert!(
                    seen[1].as_u64().unwrap() >= 1,
                    "failed hours in red: {seen}"
                );
                assert!(
                    seen[2].as_f64().unwrap() > f64::from(width.min(640)) * 0.7,
                    "the chart uses the width at {width} px: {seen}"
                );
                if *name == "release" {
                    let verdict = seen[3].as_str().unwrap();
                    assert!(
                        verdict.contains("Deploy check: fail")
                            && verdict.contains("POST /checkout/"),
                        "{verdict}"
                    );
                }
            }
        }
        client.goto(&list).await.unwrap();
        let display = client
            .execute(
                "return getComputedStyle(document.querySelector('table.issues tr')).display",
                vec![],
            )
            .await
            .unwrap();
        if width <= 390 {
            assert_eq!(display, json!("block"), "rows are cards at {width} px");
        } else {
            assert_eq!(display, json!("table-row"));
        }
    }

    client.set_window_size(1280, 900).await.unwrap();
    client.goto(&issue).await.unwrap();
    let tops = client
        .execute(
            "return ['exception', 'activity'].map(id => document.getElementById(id).getBoundingClientRect().top).concat([window.innerHeight])",
            vec![],
        )
        .await
        .unwrap();
    let (exception, activity, inner) = (
        tops[0].as_f64().unwrap(),
        tops[1].as_f64().unwrap(),
        tops[2].as_f64().unwrap(),
    );
    assert!(exception < activity, "the crash before the charts");
    // The exception's heading on the first screen, under the title, the actions and
    // the highlights, even with names as long as these.
    assert!(
        exception + 100.0 < inner,
        "the crash on the first screen: {exception} px down in {inner} px"
    );

    // The first Tab reaches the skip link.
    client
        .execute("document.activeElement.blur(); window.focus();", vec![])
        .await
        .unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = client
        .execute("return document.activeElement.className", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("skip"));
    client.close().await.unwrap();
}
