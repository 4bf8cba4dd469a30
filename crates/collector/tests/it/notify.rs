//! Notifications against real servers on loopback: an SMTP server (aiosmtpd), a webhook
//! receiver, and two collectors sharing one database.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::smtp::SmtpServer;
use crate::common::{TestServer, envelope, ingest, panic_event};
use axum::body::Bytes;
use axum::http::HeaderMap;
use mayday_collector::store::DeliveryStatus;
use serde_json::{Value, json};

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0";

fn checkout_crash() -> Value {
    json!({
        "event_id": uuid::Uuid::new_v4().simple().to_string(),
        "level": "error",
        "release": "shop@1.4.2",
        "environment": "production",
        "server_name": "web-1",
        "transaction": "POST /checkout",
        "user": {"id": "42", "email": "jane@example.com", "name": "Jane Doe"},
        "request": {
            "method": "POST",
            "url": "https://shop.example/checkout",
            "query_string": "bundle=team",
            "headers": {"User-Agent": FIREFOX}
        },
        "exception": {"values": [{
            "type": "PaymentError",
            "value": "card declined",
            "stacktrace": {"frames": [
                {"function": "tokio::runtime::poll", "in_app": false},
                {"function": "shop::checkout::handler", "filename": "src/checkout.rs", "lineno": 88, "in_app": true},
                {"function": "shop::checkout::apply_coupon", "filename": "src/checkout.rs", "lineno": 42, "in_app": true}
            ]}
        }]}
    })
}

async fn notifications(
    server: &TestServer,
) -> Vec<mayday_collector::store::entities::outbox::Model> {
    server
        .state
        .store
        .notifications(server.project_id, None, 100)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_issue_emails_who_hit_what_where() {
    let mail = common::with_mail(&["--base-url", "https://mayday.example"]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);

    ingest(server, &checkout_crash()).await;
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.recipients, ["team@shop.example"]);
    assert_eq!(
        mail.subject(),
        "[default/production] Jane Doe hit PaymentError: card declined"
    );
    let (plain, html) = mail.parts();
    for expected in [
        "Jane Doe <jane@example.com>, id 42",
        "POST https://shop.example/checkout?bundle=team",
        "POST /checkout",
        "Firefox 86 on Windows 10",
        "shop@1.4.2",
        "web-1",
        "UTC",
        "shop::checkout::apply_coupon (src/checkout.rs:42)",
        "affected 1 user in 1 event",
        "https://mayday.example/projects/1/issues/1/events/",
        "mailto:jane@example.com",
    ] {
        assert!(
            plain.contains(expected),
            "{expected:?} in the text part:\n{plain}"
        );
    }
    assert!(
        html.contains("Firefox 86 on Windows 10")
            && html.contains("href=\"https://mayday.example/projects/1/issues/1/events/")
    );
    // The mail can arrive a moment before the worker records that it was sent.
    common::notifications_settled(server).await;
    let rows = notifications(server).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, DeliveryStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_data_is_escaped_in_html_and_kept_out_of_headers() {
    let mail = common::with_mail(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let mut event = checkout_crash();
    event["user"]["name"] = json!("<script>alert(1)</script>\r\nBcc: victim@example.com");
    event["exception"]["values"][0]["value"] = json!("<img src=x onerror=alert(2)>");
    ingest(server, &event).await;
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        mails[0].recipients,
        ["team@shop.example"],
        "no injected recipient"
    );
    let (_, html) = mails[0].parts();
    assert!(
        !html.contains("<script>") && !html.contains("<img src=x"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;") && html.contains("&lt;img src=x"));
    assert!(!mails[0].subject().contains('\n'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_one_new_issue_sends_one_email() {
    let mail = common::with_mail(&["--rate-limit", "0"]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            let url = server.envelope_url();
            let auth = server.auth();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let response = client
                        .post(&url)
                        .header("x-sentry-auth", &auth)
                        .body(envelope(&panic_event("shop::checkout::apply_coupon", None)))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    smtp.wait_for(1, Duration::from_secs(20)).await;
    // Give a second email every chance to show up.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 1);
    let issue = server.state.store.issue(1).await.unwrap().unwrap();
    assert_eq!(issue.event_count, 1000);
    assert_eq!(notifications(server).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_then_up_the_email_arrives_after_a_retry() {
    let port = SmtpServer::free_port();
    let url = format!("smtp://127.0.0.1:{port}?tls=none");
    let db = common::sqlite();
    let server = TestServer::start(
        &db,
        &[
            "--smtp-url",
            &url,
            "--notify-poll-ms",
            "50",
            "--notify-retry-base-ms",
            "300",
        ],
    )
    .await;
    server
        .state
        .store
        .add_recipient(server.project_id, "team@shop.example")
        .await
        .unwrap();
    ingest(&server, &checkout_crash()).await;

    // The first attempt fails: nothing listens.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = notifications(&server).await;
        if rows[0].attempts >= 1 && rows[0].last_error.is_some() {
            assert_eq!(
                rows[0].status,
                DeliveryStatus::Pending,
                "retried, not given up"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed attempt recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let smtp = SmtpServer::start(port).await;
    let mails = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 1, "delivered once the server is up");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while notifications(&server).await[0].status != DeliveryStatus::Sent {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(notifications(&server).await[0].attempts >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_on_one_database_send_each_notification_once() {
    let smtp = SmtpServer::start(0).await;
    // PostgreSQL when configured (CI), else a shared SQLite file.
    let db = match common::postgres().await {
        Some(pg) => pg,
        None => common::sqlite(),
    };
    let args = [
        "--smtp-url",
        &smtp.url(),
        "--notify-poll-ms",
        "20",
        "--rate-limit",
        "0",
    ];
    let first = TestServer::start(&db, &args).await;
    let second = TestServer::join(&db, &args, &first).await;
    first
        .state
        .store
        .add_recipient(first.project_id, "team@shop.example")
        .await
        .unwrap();
    for i in 0..30 {
        let server = if i % 2 == 0 { &first } else { &second };
        ingest(
            server,
            &panic_event(&format!("shop::handler_{i}"), Some("7")),
        )
        .await;
    }
    smtp.wait_for(30, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = smtp.messages();
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(mails.len(), 30, "{}: every notification once", db.kind);
    assert_eq!(subjects.len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regressions_always_notify_and_spikes_respect_the_window() {
    let mail = common::with_mail(&["--rate-limit", "0"]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    ingest(server, &checkout_crash()).await;
    smtp.wait_for(1, Duration::from_secs(20)).await;
    server
        .state
        .store
        .set_issue_status(1, mayday_collector::store::IssueStatus::Resolved)
        .await
        .unwrap();
    ingest(server, &checkout_crash()).await;
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 2);
    assert!(
        mails[1]
            .subject()
            .contains("hit a regression: PaymentError"),
        "{}",
        mails[1].subject()
    );

    // A spike: more than 3 events in 10 minutes, at most once per hour.
    server
        .state
        .store
        .set_spike(server.project_id, 3, 10)
        .await
        .unwrap();
    let other = panic_event("shop::cart::add", None);
    ingest(server, &other).await;
    smtp.wait_for(3, Duration::from_secs(20)).await;
    for _ in 0..10 {
        let mut again = other.clone();
        again["event_id"] = json!(uuid::Uuid::new_v4().simple().to_string());
        ingest(server, &again).await;
    }
    // Every notification the events queued is out: the spike queued none.
    assert_eq!(common::notifications_settled(server).await, 3);
    let subjects: Vec<String> = smtp.messages().iter().map(|m| m.subject()).collect();
    assert_eq!(
        subjects.len(),
        3,
        "new issue notified; no spike within the hour after it: {subjects:?}"
    );
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_get_a_signed_payload() {
    let seen: Seen = Arc::default();
    let receiver = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push((headers, body));
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let db = common::sqlite();
    // The receiver is on loopback: allowed for this test only.
    let server =
        TestServer::start(&db, &["--notify-poll-ms", "50", "--allow-private-targets"]).await;
    let token = server.token("admin@example.com", true).await;
    let created: Value = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/projects/{}/webhooks",
            server.base, server.project_id
        ))
        .bearer_auth(&token)
        .json(&json!({"url": hook_url, "secret": "s3cret"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["secret"], "s3cret");

    ingest(&server, &checkout_crash()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "webhook not called");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (headers, body) = seen.lock().unwrap()[0].clone();
    let signature = headers["x-mayday-signature"].to_str().unwrap().to_owned();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&body);
    assert_eq!(
        signature,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        payload["text"]
            .as_str()
            .unwrap()
            .starts_with("[default/production] Jane Doe hit PaymentError: card declined")
    );
    assert_eq!(payload["user"]["email"], "jane@example.com");
    assert_eq!(payload["request"]["route"], "POST /checkout");
    assert_eq!(payload["issue"]["user_count"], 1);

    let (status, listed) = {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/projects/{}/notifications",
                server.base, server.project_id
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(listed["notifications"][0]["channel"], "webhook");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_apps_panic_emails_the_team_naming_the_user() {
    let mail = common::with_mail(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let (reporter, app_url) = common::demo_app(server, "production").await;
    let response = reqwest::Client::new()
        .get(format!("{app_url}/panic?bundle=team"))
        .header("x-demo-user", "42:jane@example.com:Jane Doe")
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert!(reporter.flush(Duration::from_secs(10)).await);
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject(),
        "[default/production] Jane Doe hit panic: coupon BLACKFRIDAY is not in the discount table"
    );
    let (plain, _) = mails[0].parts();
    assert!(plain.contains("GET http://"), "{plain}");
    assert!(plain.contains("/panic?bundle=team"));
    assert!(plain.contains("axum_app::checkout::apply_coupon"));
    assert!(plain.contains("Firefox 86 on Windows 10"));
    // Printed for the README's sample: `cargo test -p mayday-collector --test notify -- --nocapture`.
    println!("Subject: {}\n\n{plain}", mails[0].subject());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spike_notifies_when_the_window_allows() {
    // No quiet time, so every event past the threshold is a spike.
    let mail = common::with_mail(&["--notify-window-minutes", "0"]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    server
        .state
        .store
        .set_spike(server.project_id, 3, 10)
        .await
        .unwrap();
    let event = panic_event("shop::cart::add", None);
    for _ in 0..5 {
        let mut again = event.clone();
        again["event_id"] = json!(uuid::Uuid::new_v4().simple().to_string());
        ingest(server, &again).await;
    }
    let mails = smtp.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let subjects: Vec<String> = smtp.messages().iter().map(|m| m.subject()).collect();
    assert_eq!(
        subjects.len(),
        3,
        "the new issue, then events 4 and 5: {subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .filter(|s| s.contains("is among many who hit"))
            .count()
            == 2
    );
    drop(mails);
}

/// The settings page cannot let notifications fail silently: without SMTP it says so
/// above the recipients; with it, "send a test email" shows the SMTP server's answer;
/// webhooks are added there (secret shown once), tested (the receiver's status shown,
/// a failing one's error too) and removed; each notification's delivery shows on the
/// settings and issue pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_test_sends_and_shows_every_delivery() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let receiver = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
                let signed = headers.contains_key("x-mayday-signature");
                let text = String::from_utf8_lossy(&body).into_owned();
                record.lock().unwrap().push(format!("{signed} {text}"));
                "ok"
            }),
        )
        .route(
            "/broken",
            axum::routing::post(|| async { (axum::http::StatusCode::BAD_GATEWAY, "no") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    // Without SMTP: the banner.
    let db = common::sqlite();
    let plain = TestServer::start(&db, &["--allow-private-targets"]).await;
    plain.token("owner@example.com", true).await;
    let cookie = common::sign_in(&plain, "owner@example.com", "correct horse battery").await;
    let settings = format!("/projects/{}/settings", plain.project_id);
    let (_, html) = common::page(&plain, &cookie, &settings).await;
    assert!(
        html.contains("id=\"smtp-missing\""),
        "the missing SMTP is said"
    );

    // With SMTP.
    let smtp = SmtpServer::start(0).await;
    let db = common::sqlite();
    let server = TestServer::start(
        &db,
        &[
            "--smtp-url",
            &smtp.url(),
            "--notify-poll-ms",
            "50",
            "--allow-private-targets",
        ],
    )
    .await;
    server.token("owner@example.com", true).await;
    let cookie = common::sign_in(&server, "owner@example.com", "correct horse battery").await;
    let settings = format!("/projects/{}/settings", server.project_id);
    let post = async |fields: &[(&str, &str)]| -> String {
        let response = common::post_form(&server, &cookie, &settings, &settings, fields).await;
        assert!(response.status().is_success() || response.status().is_redirection());
        response.text().await.unwrap()
    };
    let (_, html) = common::page(&server, &cookie, &settings).await;
    assert!(!html.contains("id=\"smtp-missing\""));
    post(&[("action", "add_recipient"), ("email", "team@shop.example")]).await;
    let answer = post(&[("action", "test_email")]).await;
    assert!(
        answer.contains("Test email to team@shop.example: sent; the server answered 250"),
        "{answer}"
    );
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].recipients, vec!["team@shop.example"]);
    assert!(
        mails[0]
            .subject()
            .contains("Test notification sent by owner@example.com")
    );

    let added = post(&[("action", "add_webhook"), ("url", &format!("{base}/hook"))]).await;
    assert!(
        added.contains("Its signing secret, shown this once"),
        "{added}"
    );
    let hooks = server
        .state
        .store
        .webhooks(server.project_id)
        .await
        .unwrap();
    let answer = post(&[
        ("action", "test_webhook"),
        ("webhook_id", &hooks[0].id.to_string()),
    ])
    .await;
    assert!(
        answer.contains("sent; the server answered HTTP 200"),
        "{answer}"
    );
    assert!(seen.lock().unwrap()[0].starts_with("true "), "signed");
    assert!(seen.lock().unwrap()[0].contains("Test notification"));

    post(&[
        ("action", "add_webhook"),
        ("url", &format!("{base}/broken")),
    ])
    .await;
    let hooks = server
        .state
        .store
        .webhooks(server.project_id)
        .await
        .unwrap();
    let broken = hooks
        .iter()
        .find(|h| h.url.ends_with("/broken"))
        .unwrap()
        .id;
    let answer = post(&[
        ("action", "test_webhook"),
        ("webhook_id", &broken.to_string()),
    ])
    .await;
    assert!(answer.contains("/broken: not sent: HTTP 502."), "{answer}");

    // A real notification: its deliveries show, the broken one retrying with its error.
    ingest(&server, &checkout_crash()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = notifications(&server).await;
        if rows.iter().any(|r| {
            r.status == DeliveryStatus::Sent && r.channel == mayday_collector::store::Channel::Email
        }) && rows
            .iter()
            .any(|r| r.attempts > 0 && r.status != DeliveryStatus::Sent)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "deliveries: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, html) = common::page(&server, &cookie, &settings).await;
    let table = &html[html.find("id=\"deliveries\"").unwrap()..];
    assert!(
        table.contains("<span class=\"status-sent\">sent</span>"),
        "{table}"
    );
    assert!(
        table.contains("retrying") || table.contains("failed"),
        "{table}"
    );
    assert!(table.contains("HTTP 502"), "the last error: {table}");
    assert!(
        table.contains(&format!("{base}/broken")),
        "admins see the webhook"
    );
    let issue_id = notifications(&server).await[0]
        .issue_id
        .expect("an issue's notification");
    let (_, issue) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue_id}", server.project_id),
    )
    .await;
    let notices = &issue[issue.find("<h3>Notifications</h3>").unwrap()..];
    assert!(
        notices.contains("status-sent") && notices.contains("HTTP 502"),
        "{notices}"
    );
    assert!(
        !notices.contains("/broken"),
        "webhook URLs only for admins, on settings"
    );

    // Removed.
    post(&[
        ("action", "remove_webhook"),
        ("webhook_id", &broken.to_string()),
    ])
    .await;
    assert_eq!(
        server
            .state
            .store
            .webhooks(server.project_id)
            .await
            .unwrap()
            .len(),
        1
    );
}
