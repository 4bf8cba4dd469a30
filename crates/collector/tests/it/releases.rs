//! Releases and the deploy check: the store's request counts on SQLite and PostgreSQL
//! (added by two writers at once, rolled up to hours), and, end to end, the demo app's
//! reporter counting requests of release A then B, `mayday-collector deploy check`
//! answering, and the official Python SDK's sessions counted.

use crate::common;

use mayday_collector::store::{HealthCount, MINUTE_MS, Store, now_ms};

fn count(release: &str, route: &str, at: i64, ok: i64, errored: i64, crashed: i64) -> HealthCount {
    HealthCount {
        release: release.into(),
        environment: "production".into(),
        route: route.into(),
        at,
        ok,
        errored,
        crashed,
    }
}

#[tokio::test]
async fn counts_add_up_exactly_with_two_writers_and_roll_up_to_hours() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let other = Store::connect(&db.url).await.unwrap();
        let project = store.create_project("shop").await.unwrap().project;
        // Two days ago, so the roll-up below folds it.
        let old = now_ms() - 2 * 86_400_000;
        let old = old - old.rem_euclid(3_600_000);
        let now = now_ms();

        // 40 adds of one each to the same minute bucket, half through each store, at once.
        let mut adds = Vec::new();
        for i in 0..40 {
            let writer = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let pid = project.id;
            adds.push(tokio::spawn(async move {
                writer
                    .add_health(pid, &[count("2.0.0", "GET /checkout", now, 1, 0, 0)])
                    .await
            }));
        }
        for add in adds {
            add.await.unwrap().unwrap();
        }
        store
            .add_health(
                project.id,
                &[
                    count("2.0.0", "POST /pay", now, 90, 8, 2),
                    count("1.0.0", "GET /checkout", old, 100, 1, 0),
                    count("1.0.0", "GET /checkout", old + MINUTE_MS, 50, 0, 0),
                    count("1.0.0", "GET /checkout", old + 5 * MINUTE_MS, 50, 1, 0),
                ],
            )
            .await
            .unwrap();

        let totals = store.release_totals(project.id, None, 0).await.unwrap();
        assert_eq!(totals.len(), 2, "{}", db.kind);
        assert_eq!(totals[0].key, "2.0.0", "most recently seen first");
        assert_eq!(
            (totals[0].ok, totals[0].errored, totals[0].crashed),
            (130, 8, 2),
            "{}: every add of both writers counted",
            db.kind
        );
        assert_eq!(totals[1].requests(), 202, "{}", db.kind);
        let routes = store
            .route_totals(project.id, "2.0.0", Some("production"), 0)
            .await
            .unwrap();
        assert_eq!(routes.len(), 2, "{}", db.kind);
        assert!(
            store
                .route_totals(project.id, "2.0.0", Some("staging"), 0)
                .await
                .unwrap()
                .is_empty()
        );

        // The day-old minutes fold into one hour; the figures stay the same.
        let folded = store.roll_up_health(now - 86_400_000).await.unwrap();
        assert_eq!(folded, 3, "{}: three old minute buckets", db.kind);
        let counts = |t: &[mayday_collector::store::Totals]| {
            t.iter()
                .map(|t| (t.key.clone(), t.ok, t.errored, t.crashed))
                .collect::<Vec<_>>()
        };
        let after = store.release_totals(project.id, None, 0).await.unwrap();
        assert_eq!(counts(&after), counts(&totals), "{}", db.kind);
        let hours = store
            .health_hours(project.id, Some("1.0.0"), None, 0)
            .await
            .unwrap();
        assert_eq!(hours, vec![(old, 202, 2)], "{}", db.kind);
        // Rolling up again changes nothing.
        assert_eq!(store.roll_up_health(now - 86_400_000).await.unwrap(), 0);
        assert_eq!(
            counts(&store.release_totals(project.id, None, 0).await.unwrap()),
            counts(&totals)
        );

        store
            .record_deploy(project.id, "2.0.0", "production", now)
            .await
            .unwrap();
        let deploys = store.deploys(project.id, None).await.unwrap();
        assert_eq!(deploys.len(), 1);
        assert_eq!(deploys[0].release, "2.0.0");
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_mayday-collector");

/// Serves the demo shop as `release`, counting requests, reporting to `server`.
async fn shop(server: &common::TestServer, release: &str) -> (mayday_reporter::Reporter, String) {
    let reporter = mayday_reporter::Reporter::builder(axum_app::build_info())
        .dsn(server.dsn.clone())
        .release(release)
        .environment("production")
        .request_counts(true)
        .build()
        .expect("reporter");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum_app::app(&reporter);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (reporter, url)
}

/// Asks the shop at `url` for `cart` cart lines (every `fail_every`th one past the
/// cart's end: a panic) and `orders` orders, then flushes the reporter.
async fn traffic(
    reporter: &mayday_reporter::Reporter,
    url: &str,
    cart: usize,
    fail_every: usize,
    orders: usize,
) -> usize {
    let client = common::client();
    let mut failed = 0;
    for i in 0..cart {
        let line = if i % fail_every == fail_every - 1 {
            failed += 1;
            7
        } else {
            i % 3
        };
        let status = client
            .get(format!("{url}/cart/{line}"))
            .send()
            .await
            .expect("shop answers")
            .status();
        assert_eq!(status.is_server_error(), line == 7);
    }
    for i in 0..orders {
        let response = client.get(format!("{url}/orders/{i}")).send().await;
        assert!(response.expect("shop answers").status().is_success());
    }
    assert!(reporter.flush(std::time::Duration::from_secs(10)).await);
    failed
}

/// `mayday-collector deploy ...` against `server` over HTTP: (exit code, stdout).
async fn deploy(server: &common::TestServer, token: &str, args: &[&str]) -> (i32, String) {
    let output = tokio::process::Command::new(BIN)
        .arg("deploy")
        .args(args)
        .args([
            "--project",
            "default",
            "--url",
            &server.base,
            "--token",
            token,
        ])
        .output()
        .await
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[tokio::test]
async fn the_deploy_check_fails_a_release_that_fails_a_route_ten_times_as_often() {
    let db = common::sqlite();
    let server = common::TestServer::start(&db, &[]).await;
    let token = server.token("ci@example.com", true).await;
    let record = |release: &'static str| {
        let (server, token) = (&server, &token);
        async move {
            let (code, out) = deploy(server, token, &["record", "--release", release]).await;
            assert_eq!(code, 0, "deploy record {release}: {out}");
        }
    };

    // Release A: 1% of cart lines panic (3 of 300), orders all fine.
    record("shop@1.0.0").await;
    let (a, a_url) = shop(&server, "shop@1.0.0").await;
    assert_eq!(traffic(&a, &a_url, 300, 100, 200).await, 3);
    let (code, out) = deploy(&server, &token, &["check", "--release", "shop@1.0.0"]).await;
    assert_eq!(code, 1, "the cart's crash is new in A: {out}");
    assert!(
        out.contains("new issue first seen in shop@1.0.0: panic: index out of bounds"),
        "{out}"
    );
    assert!(out.contains("against no earlier release"), "{out}");

    // Release B: 10% of cart lines panic (30 of 300).
    record("shop@2.0.0").await;
    let (b, b_url) = shop(&server, "shop@2.0.0").await;
    assert_eq!(traffic(&b, &b_url, 300, 10, 200).await, 30);
    let (code, out) = deploy(&server, &token, &["check", "--release", "shop@2.0.0"]).await;
    assert_eq!(code, 1, "B fails: {out}");
    assert!(
        out.contains("GET /cart/{line} fails 10.00% of 300 requests, against 1.00% before"),
        "the route named with its rates: {out}"
    );
    assert!(
        out.contains("shop@1.0.0"),
        "compared with A, deployed before it: {out}"
    );
    assert!(
        out.contains(&format!(
            "{}/projects/{}/releases/shop%402.0.0",
            server.state.config.base_url(),
            server.project_id
        )),
        "a link to look at: {out}"
    );

    // The API says the same, counted exactly.
    let release = common::api_json(
        &server,
        &token,
        &format!("/api/v1/projects/{}/releases/shop@2.0.0", server.project_id),
    )
    .await;
    assert_eq!(release["requests"], 500);
    assert_eq!(release["crashed"], 30);
    assert_eq!(release["previous"]["name"], "shop@1.0.0");
    assert_eq!(
        release["routes"][0]["name"], "GET /cart/{line}",
        "worst first"
    );
    assert_eq!(release["routes"][0]["requests"], 300);

    // Release C with A's rates passes against A, and, being better, against B.
    record("shop@2.0.1").await;
    let (c, c_url) = shop(&server, "shop@2.0.1").await;
    assert_eq!(traffic(&c, &c_url, 300, 100, 200).await, 3);
    let (code, out) = deploy(
        &server,
        &token,
        &[
            "check",
            "--release",
            "shop@2.0.1",
            "--previous",
            "shop@1.0.0",
        ],
    )
    .await;
    assert_eq!(code, 0, "A's rates pass against A: {out}");
    let (code, out) = deploy(&server, &token, &["check", "--release", "shop@2.0.1"]).await;
    assert_eq!(code, 0, "and against B, deployed before it: {out}");

    // Release D with A's rates but a crash never seen before fails, naming the issue.
    record("shop@2.0.2").await;
    let (d, d_url) = shop(&server, "shop@2.0.2").await;
    let client = common::client();
    let status = client
        .get(format!("{d_url}/panic"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 500);
    traffic(&d, &d_url, 300, 100, 200).await;
    let (code, out) = deploy(&server, &token, &["check", "--release", "shop@2.0.2"]).await;
    assert_eq!(code, 1, "a new issue fails: {out}");
    assert!(out.contains("new issue first seen in shop@2.0.2"), "{out}");

    // Too few requests yet: exit 2.
    record("shop@3.0.0").await;
    let (code, out) = deploy(&server, &token, &["check", "--release", "shop@3.0.0"]).await;
    assert_eq!(code, 2, "no requests yet: {out}");
    // A release name the collector refuses: said, exit not 0.
    let (code, out) = deploy(&server, &token, &["record", "--release", " "]).await;
    assert_ne!(code, 0);
    assert!(out.contains("the release: 1 to 200 characters"), "{out}");
    // Could not check (a refused token): 3, apart from a failing release's 1.
    let (code, out) = deploy(
        &server,
        "not-a-token",
        &["check", "--release", "shop@2.0.0"],
    )
    .await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("refused the token"), "{out}");
}

#[tokio::test]
async fn the_python_sdk_sessions_are_counted() {
    let db = common::sqlite();
    let server = common::TestServer::start(&db, &[]).await;
    let token = server.token("ci@example.com", true).await;
    let script = r#"
import sys, sentry_sdk
sentry_sdk.init(dsn=sys.argv[1], release="py@1.0.0", environment="production")
for i in range(40):
    with sentry_sdk.isolation_scope() as scope:
        scope.start_session(session_mode="request")
        if i % 4 == 0:
            sentry_sdk.capture_exception(ValueError("bad request %d" % i))
        scope.end_session()
sentry_sdk.flush()
"#;
    let output = tokio::process::Command::new("python3")
        .args(["-c", script, &server.dsn])
        .env(
            "PYTHONPATH",
            common::python_packages("python-sentry-sdk", "sentry-sdk>=2,<3", "sentry_sdk").await,
        )
        .output()
        .await
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let release = common::api_json(
        &server,
        &token,
        &format!("/api/v1/projects/{}/releases/py@1.0.0", server.project_id),
    )
    .await;
    assert_eq!(release["requests"], 40, "{release:#}");
    assert_eq!(release["errored"], 10, "{release:#}");
    assert_eq!(release["crashed"], 0, "{release:#}");
}

#[tokio::test]
async fn two_collectors_on_one_database_count_sessions_exactly() {
    for db in common::databases().await {
        let first = common::TestServer::start(&db, &[]).await;
        let second = common::TestServer::join(&db, &[], &first).await;
        let token = first.token("ci@example.com", true).await;
        let started = chrono::Utc::now().to_rfc3339();
        let payload = serde_json::json!({
            "attrs": {"release": "shop@5.0.0", "environment": "production"},
            "aggregates": [
                {"started": started, "route": "GET /checkout", "exited": 3, "errored": 1},
                {"started": started, "route": "POST /pay", "exited": 2, "crashed": 1},
            ],
        })
        .to_string();
        let body = format!(
            "{{}}\n{{\"type\":\"sessions\",\"length\":{}}}\n{payload}\n",
            payload.len()
        );
        // 60 envelopes at once, half to each collector: every count lands once.
        let client = reqwest::Client::new();
        let mut sends = Vec::new();
        for i in 0..60 {
            let server = if i % 2 == 0 { &first } else { &second };
            let request = client
                .post(server.envelope_url())
                .header("x-sentry-auth", server.auth())
                .body(body.clone());
            sends.push(async move { request.send().await.map(|r| r.status()) });
        }
        for status in futures_util::future::join_all(sends).await {
            assert_eq!(status.expect("collector answers"), 200, "{}", db.kind);
        }
        let release = common::api_json(
            &second,
            &token,
            &format!("/api/v1/projects/{}/releases/shop@5.0.0", first.project_id),
        )
        .await;
        assert_eq!(release["requests"], 60 * 7, "{}: {release:#}", db.kind);
        assert_eq!(release["errored"], 60, "{}", db.kind);
        assert_eq!(release["crashed"], 60, "{}", db.kind);
        let checkout = release["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "GET /checkout")
            .cloned()
            .unwrap();
        assert_eq!(checkout["requests"], 240, "{}", db.kind);
    }
}
