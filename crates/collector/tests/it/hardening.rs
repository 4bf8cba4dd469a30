//! A shared collector under abuse and operators' mistakes: check-ins under the events'
//! limits and a cap on monitors, the monitors page with thousands of them, addresses
//! mail cannot take refused at entry, far-off expectations, HSTS.

use crate::common;

use crate::common::{TestServer, client, envelope, page, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A plain HTTP check-in of `slug` with `status`: the answer's status, headers and body.
async fn check_in(
    server: &TestServer,
    slug: &str,
    query: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = client()
        .get(format!(
            "{}/api/{}/cron/{slug}/{}/?{query}",
            server.base, server.project_id, server.key
        ))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Check-ins count against the project's limit per minute like events (each in its own
/// budget), with Sentry's `monitor` category so that SDKs hold back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_are_rate_limited_like_events() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server
        .state
        .store
        .set_rate_limit(server.project_id, 5)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    let mut limited = None;
    for n in 0..8 {
        let (status, headers, body) = check_in(&server, "nightly", "status=ok").await;
        statuses.push(status);
        if n == 7 {
            limited = Some((headers, body));
        }
    }
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    assert_eq!(accepted, 5, "{statuses:?}");
    assert!(
        statuses[5..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    );
    let (headers, body) = limited.unwrap();
    assert!(
        body.contains("rate limit of 5 check-ins per minute"),
        "{body}"
    );
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(
        headers["x-sentry-rate-limits"].to_str().unwrap(),
        format!("{retry_after}:monitor:key")
    );
    // The same in an envelope (what SDKs send); nothing of a refused envelope is kept.
    let item = json!({"check_in_id": "83a7c03ed0a04e1b97e2e3b18d38f244",
                      "monitor_slug": "nightly", "status": "ok"});
    let body = format!(
        "{{}}\n{{\"type\":\"check_in\"}}\n{}\n",
        serde_json::to_string(&item).unwrap()
    );
    let refused = client()
        .post(server.envelope_url())
        .header("x-sentry-auth", server.auth())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // Events keep their own budget.
    let event = client()
        .post(server.envelope_url())
        .header("x-sentry-auth", server.auth())
        .body(envelope(&json!({"message": "still heard"})))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), StatusCode::OK);
    let monitor = server
        .state
        .store
        .monitor_by_slug(server.project_id, "nightly")
        .await
        .unwrap()
        .unwrap();
    let results = server
        .state
        .store
        .monitor_results(monitor.id, 100, None)
        .await
        .unwrap();
    assert_eq!(results.len(), 5, "only accepted check-ins are recorded");
}

/// Past the most monitors per project, a check-in naming a new monitor gets 429 saying
/// which setting to raise; the project's monitors keep working; admins cannot add one
/// either. On both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_cannot_create_more_monitors_than_the_cap() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &["--max-monitors-per-project", "3"]).await;
        let attempts = (0..6).map(|n| {
            let server = &server;
            async move { check_in(server, &format!("mass-{n}"), "status=ok").await }
        });
        let answers = futures_util::future::join_all(attempts).await;
        let created = answers
            .iter()
            .filter(|(s, _, _)| *s == StatusCode::ACCEPTED)
            .count();
        assert_eq!(created, 3, "{}: {answers:?}", db.kind);
        let (_, _, refusal) = answers
            .iter()
            .find(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS)
            .unwrap_or_else(|| panic!("{}: a 429 among {answers:?}", db.kind));
        assert!(
            refusal.contains("has 3 monitors")
                && refusal.contains("MAYDAY_MAX_MONITORS_PER_PROJECT=3"),
            "{refusal}"
        );
        let monitors = server
            .state
            .store
            .monitors(server.project_id)
            .await
            .unwrap();
        assert_eq!(monitors.len(), 3, "{}", db.kind);
        // An existing monitor still takes its check-ins.
        let (status, _, _) = check_in(&server, &monitors[0].slug, "status=error").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{}", db.kind);
        // Nor can an admin add a fourth.
        let admin = server.token("owner@example.com", true).await;
        let added = client()
            .post(format!(
                "{}/api/v1/projects/{}/monitors",
                server.base, server.project_id
            ))
            .bearer_auth(&admin)
            .json(&json!({"name": "nightly", "kind": "cron",
                          "schedule": {"type": "crontab", "value": "0 3 * * *"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), StatusCode::TOO_MANY_REQUESTS, "{}", db.kind);
        let text = added.text().await.unwrap();
        assert!(text.contains("MAYDAY_MAX_MONITORS_PER_PROJECT"), "{text}");
    }
}

/// With 2,000 monitors (more than the default cap allows: a database from before it),
/// the page lists a hundred at a time, failing ones first, each with its results and
/// uptime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitors_page_pages_thousands_of_monitors() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--max-monitors-per-project", "5000"]).await;
    let store = &server.state.store;
    let now = mayday_collector::store::now_ms();
    for n in 0..2000 {
        let mut item = json!({"monitor_slug": format!("job-{n:04}"), "status": "ok"});
        if n == 1500 {
            item["status"] = json!("error");
        }
        let check_in: mayday_protocol::CheckIn = serde_json::from_value(item).unwrap();
        mayday_collector::monitors::check_ins::record(
            store,
            5000,
            server.project_id,
            check_in,
            now,
        )
        .await
        .unwrap();
    }
    server.token("owner@example.com", true).await;
    let cookie = sign_in(&server, "owner@example.com", "correct horse battery").await;
    let path = format!("/projects/{}/monitors", server.project_id);
    let (status, html) = page(&server, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Monitors 1–100 of 2000"), "a pager");
    let failing = html
        .find("job-1500")
        .expect("the failing monitor on the first page");
    let first_ok = html.find("job-0000").expect("then the others by name");
    assert!(failing < first_ok);
    assert!(html.contains("100.00%"), "24 h uptime per monitor");
    let (_, last) = page(&server, &cookie, &format!("{path}?page=20")).await;
    assert!(last.contains("Monitors 1901–2000 of 2000"), "the last page");
    assert!(last.contains("job-1999") && !last.contains("job-0000"));
    let (_, beyond) = page(&server, &cookie, &format!("{path}?page=99")).await;
    assert!(
        beyond.contains("job-1999"),
        "past the end shows the last page"
    );
}

/// Every address is checked the way sending checks it: one mail cannot take is refused
/// when it is entered, with a message naming it, instead of failing every notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_mail_cannot_take_are_refused_at_entry() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let admin = server.token("owner@example.com", true).await;
    let url = format!(
        "{}/api/v1/projects/{}/recipients",
        server.base, server.project_id
    );
    let refused = client()
        .post(&url)
        .bearer_auth(&admin)
        .json(&json!({"email": "\"<script>alert(1)</script>\"@x.y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("cannot be sent to") || text.contains("is not an email address"),
        "{text}"
    );
    // A mailbox with a name is one address, kept in its plain form.
    let named: Value = client()
        .post(&url)
        .bearer_auth(&admin)
        .json(&json!({"email": "Team <Team@Shop.Example>"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(named["recipients"], json!(["team@shop.example"]), "{named}");
    let removed = client()
        .delete(&url)
        .bearer_auth(&admin)
        .json(&json!({"email": "TEAM@shop.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    // The same rule for the sender of messages to users.
    let outreach = format!(
        "{}/api/v1/projects/{}/outreach",
        server.base, server.project_id
    );
    let mut settings = common::api_json(
        &server,
        &admin,
        &format!("/api/v1/projects/{}/outreach", server.project_id),
    )
    .await;
    settings["from"] = json!("\"<b>x</b>\"@x.y");
    let saved = client()
        .put(&outreach)
        .bearer_auth(&admin)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::BAD_REQUEST);
    let text = saved.text().await.unwrap();
    assert!(text.contains("the sender"), "{text}");
}

/// A margin of years is refused with the most named; the longest allowed is shown as a
/// date, never 1970.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_off_expectations_are_refused_or_shown_as_dates() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let post = |config: Value| {
        let url = format!(
            "{}/api/{}/cron/weekly/{}/",
            server.base, server.project_id, server.key
        );
        async move {
            client()
                .post(url)
                .json(&json!({"status": "ok", "monitor_config": config}))
                .send()
                .await
                .unwrap()
        }
    };
    let huge = post(
        json!({"schedule": {"type": "interval", "value": 1, "unit": "week"},
                           "checkin_margin": 1_000_000_000_000u64}),
    )
    .await;
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
    let text = huge.text().await.unwrap();
    assert!(
        text.contains("checkin_margin is at most 40320 minutes (28 days)"),
        "{text}"
    );
    let long = post(
        json!({"schedule": {"type": "interval", "value": 1000, "unit": "week"},
                           "checkin_margin": 40320}),
    )
    .await;
    assert_eq!(long.status(), StatusCode::ACCEPTED);
    let monitor = server
        .state
        .store
        .monitor_by_slug(server.project_id, "weekly")
        .await
        .unwrap()
        .unwrap();
    server.token("owner@example.com", true).await;
    let cookie = sign_in(&server, "owner@example.com", "correct horse battery").await;
    let (_, html) = page(
        &server,
        &cookie,
        &format!("/projects/{}/monitors/{}", server.project_id, monitor.id),
    )
    .await;
    assert!(!html.contains("1970-01-01"), "no epoch dates");
    // A thousand weeks and 28 days ahead: about 7,028 days.
    let year = (chrono::Utc::now() + chrono::Duration::days(7028)).format("%Y-");
    assert!(
        html.contains(" days") && html.contains(&year.to_string()),
        "the expectation as a date {year} and in days"
    );
}

/// With an https base URL every answer asks browsers to keep to https for a year;
/// `MAYDAY_HSTS=0` turns it off; over http it is never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_collectors_send_strict_transport_security() {
    let db = common::sqlite();
    let https = TestServer::start(&db, &["--base-url", "https://mayday.example"]).await;
    for path in ["/healthz", "/login", "/api/v1/projects"] {
        let response = client()
            .get(format!("{}{path}", https.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    let off = TestServer::open(&db, &["--base-url", "https://mayday.example", "--hsts=0"]).await;
    let plain = TestServer::open(&db, &[]).await;
    for server in [&off, &plain] {
        let response = client()
            .get(format!("{}/login", server.base))
            .send()
            .await
            .unwrap();
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "{}",
            server.base
        );
    }
}

/// Adds `count` issues to `project_id` in one statement (a big project, quickly).
async fn many_issues(server: &TestServer, project_id: i64, count: usize) {
    use sea_orm::ConnectionTrait;
    server
        .state
        .store
        .connection()
        .execute_unprepared(&format!(
            "INSERT INTO issue (project_id, fingerprint, title, culprit, level, status, \
             first_seen, last_seen, event_count, user_count, regression_count) \
             WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {count}) \
             SELECT {project_id}, 'fp' || x, 'Error number ' || x, 'shop::module::f', 'error', \
             'unresolved', x, x, 1, 0, 0 FROM n"
        ))
        .await
        .unwrap();
}

/// A search of more than eight words is refused naming the limit; a search past the
/// read time limit is stopped, said as such (503 with `Retry-After` over the API, above
/// the intact page in the UI), and `/healthz` is not held up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_are_bounded_in_words_and_time() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--read-time-limit-ms", "1"]).await;
    many_issues(&server, server.project_id, 5000).await;
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let list = format!(
        "{}/api/v1/projects/{}/issues",
        server.base, server.project_id
    );
    let words = "- ".repeat(248) + "zz";
    let refused = client()
        .get(&list)
        .bearer_auth(&member)
        .query(&[("query", words.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let text = refused.text().await.unwrap();
    assert!(text.contains("249 words; at most 8 are searched"), "{text}");

    let slow = "checkout payment cart search account wishlist order refund";
    let stopped = client()
        .get(&list)
        .bearer_auth(&member)
        .query(&[("query", slow)])
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stopped.headers()["retry-after"], "1");
    let text = stopped.text().await.unwrap();
    assert!(
        text.contains("took longer than") && text.contains("narrow it"),
        "{text}"
    );
    let health = client()
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    let cookie = sign_in(&server, "member@example.com", "correct horse battery").await;
    let (status, html) = page(
        &server,
        &cookie,
        &format!(
            "/projects/{}/issues?query={}",
            server.project_id,
            slow.replace(' ', "+")
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "said as such");
    assert!(
        html.contains("The search took longer than 1 ms and was stopped"),
        "said above the list"
    );
    assert!(
        html.contains("name=\"query\""),
        "with the search box to narrow it"
    );
}
