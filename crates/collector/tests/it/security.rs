//! Security findings, each reproduced against a running collector so that it stays
//! fixed: first-run setup raced, `/metrics` open, event data injecting into `mailto:`
//! links, email and Slack-style text.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::smtp::SmtpServer;
use crate::common::{TestServer, client, ingest, page, panic_event, sign_in};
use axum::body::Bytes;
use mayday_collector::store::{DeliveryStatus, ProjectRole};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Eight first-run forms at once create one admin; the others, and setup afterwards,
/// get 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_creates_one_admin_however_many_race() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &[]).await;
        // Eight browsers, each with the form loaded, submit at once.
        let mut loaded = Vec::new();
        for _ in 0..8 {
            loaded.push(common::preauth_form(&server, "/setup").await);
        }
        let forms = loaded.into_iter().enumerate().map(|(n, form)| {
            let url = format!("{}/setup", server.base);
            async move {
                client()
                    .post(url)
                    .header("cookie", form.cookie)
                    .form(&[
                        ("email", format!("admin{n}@example.com")),
                        ("password", "long enough password".to_owned()),
                        ("csrf", form.csrf),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        });
        let statuses = futures_util::future::join_all(forms).await;
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count();
        assert_eq!(created, 1, "{}: {statuses:?}", db.kind);
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::NOT_FOUND),
            "{}: {statuses:?}",
            db.kind
        );
        assert_eq!(server.state.store.count_accounts().await.unwrap(), 1);
        let page = client()
            .get(format!("{}/setup", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{}", db.kind);
    }
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let db = common::sqlite();
    let open = TestServer::start(&db, &[]).await;
    let response = client()
        .get(format!("{}/metrics", open.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no token set: open");

    let db = common::sqlite();
    let server = TestServer::start(&db, &["--metrics-token", "m3trics"]).await;
    let url = format!("{}/metrics", server.base);
    let anonymous = client().get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let body = anonymous.text().await.unwrap();
    assert!(!body.contains("mayday_"), "no metrics without the token");
    let wrong = client()
        .get(&url)
        .bearer_auth("m3trics-not")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = client()
        .get(&url)
        .bearer_auth("m3trics")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("mayday_"));
}

/// An event whose user email would add `cc` and `body` to a `mailto:` link, and whose
/// message mentions `<!channel>` and disguises a link for Slack.
fn hostile_event(email: &str) -> Value {
    let mut event = panic_event("shop::checkout::pay", Some("7"));
    event["user"]["email"] = json!(email);
    event["exception"]["values"][0]["value"] =
        json!("<!channel> card declined, see <https://evil.example|your bank> & pay");
    event
}

/// Addresses that must never become a `mailto:` with parameters.
const PARAMETER_IN_ADDRESS: &str = "a?cc=boss&body=x@example.com";
const PARAMETER_AFTER_ADDRESS: &str = "jane@example.com?cc=evil@example.com&body=pay";

fn assert_no_mailto_parameters(text: &str, what: &str) {
    for (at, _) in text.match_indices("mailto:") {
        let link: String = text[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect();
        assert!(
            !link.contains('?') && !link.contains('&'),
            "{what}: {link} carries parameters"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_data_cannot_inject_into_mailto_links_or_slack_text() {
    let smtp = SmtpServer::start(0).await;
    type Seen = Arc<Mutex<Vec<Bytes>>>;
    let seen: Seen = Arc::default();
    let receiver = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: Bytes| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(body);
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

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
    let store = &server.state.store;
    store
        .add_recipient(server.project_id, "team@shop.example")
        .await
        .unwrap();
    store
        .add_webhook(server.project_id, &hook_url, "s3cret")
        .await
        .unwrap();

    ingest(&server, &hostile_event(PARAMETER_IN_ADDRESS)).await;
    let mut second = hostile_event(PARAMETER_AFTER_ADDRESS);
    second["user"]["id"] = json!("8");
    ingest(&server, &second).await;

    // Email: the valid address linked with its `?`, `&` and `=` encoded.
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails[0].recipients, ["team@shop.example"]);
    let (text, html) = mails[0].parts();
    assert_no_mailto_parameters(&text, "text part");
    assert_no_mailto_parameters(&html, "html part");
    assert!(
        html.contains("mailto:a%3Fcc%3Dboss%26body%3Dx@example.com"),
        "{html}"
    );

    // Slack-style text: no mention, no disguised link.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "webhook not called");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = seen.lock().unwrap()[0].clone();
    let payload: Value = serde_json::from_slice(&body).unwrap();
    let text = payload["text"].as_str().unwrap();
    assert!(
        !text.contains("<!channel>") && !text.contains("<https://"),
        "{text}"
    );
    assert!(
        text.contains("&lt;!channel&gt;") && text.contains("&amp; pay"),
        "{text}"
    );

    // The issue page: one address linked safely, the invalid one shown, not linked.
    let token = server.token("admin@example.com", true).await;
    let issue_id = common::latest_issue_id(&server, &token).await;
    let cookie = sign_in(&server, "admin@example.com", "correct horse battery").await;
    let (_, page) = page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue_id}", server.project_id),
    )
    .await;
    assert_no_mailto_parameters(&page, "issue page");
    assert!(page.contains("mailto:a%3Fcc%3Dboss%26body%3Dx@example.com"));
    assert!(
        page.contains("jane@example.com?cc=evil@example.com&amp;body=pay"),
        "the invalid address is shown as text"
    );
}

/// A sign-in form from `client` (sent as `X-Forwarded-For`): its status and
/// `Retry-After`.
async fn try_sign_in(
    server: &TestServer,
    client_ip: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Option<u64>) {
    let response = common::post_preauth(
        server,
        "/login",
        &[("email", email), ("password", password)],
        &[("x-forwarded-for", client_ip)],
    )
    .await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (response.status(), retry_after)
}

/// Forty parallel guesses get five checks; the owner, from elsewhere, waits a second,
/// not fifteen minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_are_counted_before_the_check_and_the_owner_gets_in() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--trusted-proxies", "127.0.0.1"]).await;
    server.token("owner@example.com", true).await;
    let guesses = (0..40).map(|n| {
        let server = &server;
        async move {
            try_sign_in(
                server,
                "203.0.113.7",
                "owner@example.com",
                &format!("guess {n}"),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != StatusCode::UNAUTHORIZED)
            .all(|(s, retry)| *s == StatusCode::TOO_MANY_REQUESTS && retry.is_some()),
        "{answers:?}"
    );

    let (status, retry) = try_sign_in(
        &server,
        "198.51.100.2",
        "owner@example.com",
        "correct horse battery",
    )
    .await;
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = retry.expect("Retry-After");
        assert!(wait <= 1, "the account waits {wait} s");
        tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
        let (status, _) = try_sign_in(
            &server,
            "198.51.100.2",
            "owner@example.com",
            "correct horse battery",
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "the owner gets in");
    } else {
        assert_eq!(status, StatusCode::SEE_OTHER, "the owner gets in");
    }
    // The guessing client's wait (a second by now over) doubles with its next failure,
    // whatever account it tries.
    let (status, _) = try_sign_in(&server, "203.0.113.7", "other@example.com", "x").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, retry) = try_sign_in(&server, "203.0.113.7", "other@example.com", "y").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry, Some(2), "the wait doubled");
}

/// Without trusted proxies, `X-Forwarded-For` is the client's word and not believed:
/// changing it does not escape the client's count.
#[tokio::test]
async fn forwarded_for_from_strangers_is_not_believed() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("owner@example.com", true).await;
    for n in 0..5 {
        let (status, _) = try_sign_in(
            &server,
            &format!("192.0.2.{n}"),
            &format!("nobody{n}@example.com"),
            "guess",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Waits double from one second after the fifth failure; a slow build may take longer
    // than the first wait to check a password, never longer than the later ones. Were
    // the claimed addresses believed, each would be a client of its own and never wait.
    let mut refused = false;
    for n in 5..10 {
        let (status, _) = try_sign_in(
            &server,
            &format!("192.0.2.{n}"),
            &format!("someone{n}@example.com"),
            "guess",
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = true;
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(refused, "one client, whatever it claims");
}

/// A receiver on loopback that records each request's path: `/hook` answers as told,
/// `/redirect` sends a 302 to `/internal`, `/slow` answers once `release` is notified.
struct Receiver {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
    release: Arc<tokio::sync::Notify>,
}

async fn receiver() -> Receiver {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let record = {
        let seen = seen.clone();
        move |path: &str| seen.lock().unwrap().push(path.to_owned())
    };
    let (r1, r2, r3, r4) = (record.clone(), record.clone(), record.clone(), record);
    let wait = release.clone();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(move || async move {
                r1("/hook");
                "ok"
            }),
        )
        .route(
            "/redirect",
            axum::routing::post(move || async move {
                r2("/redirect");
                (
                    axum::http::StatusCode::FOUND,
                    [("location", "/internal")],
                    "INTERNAL-SECRET-BODY",
                )
            }),
        )
        .route(
            "/internal",
            axum::routing::any(move || async move {
                r3("/internal");
                "INTERNAL-SECRET-BODY"
            }),
        )
        .route(
            "/slow",
            axum::routing::post(move || {
                let wait = wait.clone();
                async move {
                    r4("/slow");
                    wait.notified().await;
                    "late"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        base,
        seen,
        release,
    }
}

/// The project's notifications, once every one has an outcome (sent, or an error).
async fn tried_notifications(
    server: &TestServer,
    project_id: i64,
) -> Vec<mayday_collector::store::entities::outbox::Model> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = server
            .state
            .store
            .notifications(project_id, None, 100)
            .await
            .unwrap();
        if !rows.is_empty()
            && rows
                .iter()
                .all(|r| r.status != DeliveryStatus::Pending || r.last_error.is_some())
        {
            return rows;
        }
        assert!(std::time::Instant::now() < deadline, "not tried: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Webhooks cannot reach the collector's own network: refused when added (loopback by
/// address or by name, the metadata address), and again when sent, for a hook whose
/// address is private by the time it is used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_cannot_reach_private_addresses() {
    let hooks = receiver().await;
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--notify-poll-ms", "50"]).await;
    let token = server.token("admin@example.com", true).await;
    let port = hooks.base.rsplit(':').next().unwrap().to_owned();
    for url in [
        format!("{}/hook", hooks.base),
        format!("http://localhost:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
    ] {
        let response = client()
            .post(format!(
                "{}/api/v1/projects/{}/webhooks",
                server.base, server.project_id
            ))
            .bearer_auth(&token)
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let detail = response.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains("address"), "{url}: {detail}");
    }
    assert!(
        server
            .state
            .store
            .webhooks(server.project_id)
            .await
            .unwrap()
            .is_empty()
    );

    // Saved before the rule (or resolving elsewhere when it was checked): refused when sent.
    server
        .state
        .store
        .add_webhook(server.project_id, &format!("{}/hook", hooks.base), "s")
        .await
        .unwrap();
    ingest(&server, &panic_event("shop::pay", None)).await;
    let rows = tried_notifications(&server, server.project_id).await;
    let error = rows[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("loopback"), "{error}");
    assert!(
        hooks.seen.lock().unwrap().is_empty(),
        "the receiver was reached"
    );
}

/// Redirects are not followed, and `last_error` never echoes what the remote said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_follow_no_redirects_and_echo_no_answers() {
    let hooks = receiver().await;
    let db = common::sqlite();
    let server =
        TestServer::start(&db, &["--notify-poll-ms", "50", "--allow-private-targets"]).await;
    server
        .state
        .store
        .add_webhook(server.project_id, &format!("{}/redirect", hooks.base), "s")
        .await
        .unwrap();
    ingest(&server, &panic_event("shop::pay", None)).await;
    let rows = tried_notifications(&server, server.project_id).await;
    let error = rows[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("HTTP 302"), "{error}");
    assert!(!error.contains("INTERNAL-SECRET-BODY"), "{error}");
    assert_eq!(*hooks.seen.lock().unwrap(), ["/redirect"], "not followed");
}

/// A webhook that does not answer holds up its own notification only: another
/// project's is delivered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_webhook_does_not_hold_back_other_projects() {
    let hooks = receiver().await;
    let db = common::sqlite();
    let server =
        TestServer::start(&db, &["--notify-poll-ms", "50", "--allow-private-targets"]).await;
    let store = &server.state.store;
    store
        .add_webhook(server.project_id, &format!("{}/slow", hooks.base), "s")
        .await
        .unwrap();
    let other = store.create_project("other").await.unwrap();
    store
        .add_webhook(other.project.id, &format!("{}/hook", hooks.base), "s")
        .await
        .unwrap();
    ingest(&server, &panic_event("shop::pay", None)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !hooks.seen.lock().unwrap().contains(&"/slow".to_owned()) {
        assert!(std::time::Instant::now() < deadline, "slow hook not called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The slow hook is now waiting; the other project's event comes in after it.
    let response = client()
        .post(format!(
            "{}/api/{}/envelope/",
            server.base, other.project.id
        ))
        .header(
            "x-sentry-auth",
            format!(
                "Sentry sentry_version=7, sentry_key={}",
                other.keys[0].public_key
            ),
        )
        .body(common::envelope(&panic_event("other::crash", None)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rows = tried_notifications(&server, other.project.id).await;
    assert_eq!(rows[0].last_error, None, "{rows:?}");
    assert!(hooks.seen.lock().unwrap().contains(&"/hook".to_owned()));
    let slow = store
        .notifications(server.project_id, None, 100)
        .await
        .unwrap();
    assert!(
        slow.iter()
            .all(|r| r.status == DeliveryStatus::Pending && r.last_error.is_none()),
        "delivered while the slow hook still waits (not after it timed out): {slow:?}"
    );
    hooks.release.notify_waiters();
}

/// Posts an `/account` form with the session's CSRF token.
async fn account_form(
    server: &TestServer,
    cookie: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = common::post_form(server, cookie, "/account", "/account", fields).await;
    (response.status(), response.text().await.unwrap_or_default())
}

/// Whether `cookie` is a live session (the projects page, not a redirect to sign in).
async fn signed_in(server: &TestServer, cookie: &str) -> bool {
    page(server, cookie, "/").await.0 == StatusCode::OK
}

async fn api_status(server: &TestServer, token: &str) -> StatusCode {
    client()
        .get(format!("{}/api/v1/projects", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_needs_the_old_one_and_signs_out_other_sessions() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("jane@example.com", false).await;
    let laptop = sign_in(&server, "jane@example.com", "correct horse battery").await;
    let phone = sign_in(&server, "jane@example.com", "correct horse battery").await;

    let (status, html) = account_form(
        &server,
        &laptop,
        &[
            ("action", "change_password"),
            ("current", "not my password"),
            ("new", "a new long password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("current password is not right"));
    assert!(signed_in(&server, &phone).await, "nothing changed");

    let (status, _) = account_form(
        &server,
        &laptop,
        &[
            ("action", "change_password"),
            ("current", "correct horse battery"),
            ("new", "a new long password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        signed_in(&server, &laptop).await,
        "the session that changed it stays"
    );
    assert!(!signed_in(&server, &phone).await, "other sessions end");
    let (old, _) = try_sign_in(
        &server,
        "192.0.2.1",
        "jane@example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    sign_in(&server, "jane@example.com", "a new long password").await;

    // Sign out everywhere else.
    let other = sign_in(&server, "jane@example.com", "a new long password").await;
    account_form(&server, &laptop, &[("action", "sign_out_elsewhere")]).await;
    assert!(signed_in(&server, &laptop).await);
    assert!(!signed_in(&server, &other).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_are_named_listed_and_revoked() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let first = server.token("jane@example.com", false).await;
    let cookie = sign_in(&server, "jane@example.com", "correct horse battery").await;
    let (status, html) = account_form(
        &server,
        &cookie,
        &[("action", "create_token"), ("name", "CI <deploy>")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let at = html.find("<code>").expect("the new token") + 6;
    let created = html[at..].split('<').next().unwrap().to_owned();
    assert_eq!(created.len(), 64);
    assert!(html.contains("CI &lt;deploy&gt;"));
    assert_eq!(api_status(&server, &created).await, StatusCode::OK);

    let listed = common::api_json(&server, &first, "/api/v1/tokens").await;
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0]["name"], "CI <deploy>");
    assert!(
        tokens[0]["last_used_at"].is_string(),
        "used just now: {listed}"
    );
    assert!(
        !listed.to_string().contains(&created),
        "tokens are never shown again"
    );
    let id = tokens[0]["id"].as_i64().unwrap();

    // Someone else cannot revoke it; its owner can.
    let other = server.token("bob@example.com", false).await;
    let response = client()
        .delete(format!("{}/api/v1/tokens/{id}", server.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(api_status(&server, &created).await, StatusCode::OK);
    let response = client()
        .delete(format!("{}/api/v1/tokens/{id}", server.base))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        api_status(&server, &created).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(api_status(&server, &first).await, StatusCode::OK);
}

/// Posts an `/admin/users` form as `admin` (session cookie).
async fn admin_form(server: &TestServer, admin: &str, fields: &[(&str, &str)]) -> StatusCode {
    common::post_form(server, admin, "/admin/users", "/admin/users", fields)
        .await
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_deactivate_remove_users_and_members_and_sessions_expire() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("root@example.com", true).await;
    let root = sign_in(&server, "root@example.com", "correct horse battery").await;
    let token = server.token("leaver@example.com", false).await;
    server.add_member("leaver@example.com").await;
    let session = sign_in(&server, "leaver@example.com", "correct horse battery").await;
    let project_page = format!("/projects/{}/issues", server.project_id);
    assert_eq!(
        page(&server, &session, &project_page).await.0,
        StatusCode::OK
    );

    // Out of the project: its pages are gone for them.
    let status = admin_form(
        &server,
        &root,
        &[
            ("action", "remove_member"),
            ("email", "leaver@example.com"),
            ("project", "default"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        page(&server, &session, &project_page).await.0,
        StatusCode::NOT_FOUND
    );

    // Deactivated: session, token and password stop working; reactivated: signs in.
    let status = admin_form(
        &server,
        &root,
        &[("action", "deactivate"), ("email", "leaver@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!signed_in(&server, &session).await);
    assert_eq!(api_status(&server, &token).await, StatusCode::UNAUTHORIZED);
    let (status, _) = try_sign_in(
        &server,
        "192.0.2.2",
        "leaver@example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    admin_form(
        &server,
        &root,
        &[("action", "activate"), ("email", "leaver@example.com")],
    )
    .await;
    sign_in(&server, "leaver@example.com", "correct horse battery").await;

    // An admin cannot lock themselves out.
    let status = admin_form(
        &server,
        &root,
        &[("action", "remove"), ("email", "root@example.com")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Removed: gone.
    admin_form(
        &server,
        &root,
        &[("action", "remove"), ("email", "leaver@example.com")],
    )
    .await;
    assert!(
        server
            .state
            .store
            .account_by_email("leaver@example.com")
            .await
            .is_err()
    );

    // Expired sessions are purged by the retention task's step.
    let store = &server.state.store;
    let root_account = store.account_by_email("root@example.com").await.unwrap();
    store
        .create_session(root_account.id, "expired-hash", "csrf", -1)
        .await
        .unwrap();
    assert!(store.purge_expired_sessions().await.unwrap() >= 1);
    assert!(signed_in(&server, &root).await, "live sessions stay");
}

/// Every change is in the project's audit log, with who made it; project admins read
/// it, members may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_in_the_audit_log_for_project_admins() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let store = &server.state.store;
    let lead_token = server.token("lead@example.com", false).await;
    let lead = store.account_by_email("lead@example.com").await.unwrap();
    store
        .add_member(server.project_id, lead.id, ProjectRole::Admin)
        .await
        .unwrap();
    let member_token = server.token("dev@example.com", false).await;
    server.add_member("dev@example.com").await;
    ingest(&server, &panic_event("shop::pay", None)).await;
    let issue_id = common::latest_issue_id(&server, &lead_token).await;
    let p = server.project_id;

    // A member changes a status; the project admin a recipient and the retention.
    let response = client()
        .patch(format!("{}/api/v1/issues/{issue_id}", server.base))
        .bearer_auth(&member_token)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = client()
        .post(format!("{}/api/v1/projects/{p}/recipients", server.base))
        .bearer_auth(&lead_token)
        .json(&json!({"email": "oncall@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = sign_in(&server, "lead@example.com", "correct horse battery").await;
    let (_, html) = page(&server, &cookie, &format!("/projects/{p}/settings")).await;
    let csrf = common::csrf_in(&html);
    let response = client()
        .post(format!("{}/projects/{p}/settings", server.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "retention"),
            ("retention_events", "50"),
            ("retention_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let log = common::api_json(&server, &lead_token, &format!("/api/v1/projects/{p}/audit")).await;
    let entries: Vec<(String, String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "lead@example.com".to_owned(),
                "retention_changed".to_owned(),
                "50 events per issue, 30 days".to_owned()
            ),
            (
                "lead@example.com".to_owned(),
                "recipient_added".to_owned(),
                "oncall@example.com".to_owned()
            ),
            (
                "dev@example.com".to_owned(),
                "status_changed".to_owned(),
                format!("issue {issue_id}: resolved")
            ),
        ]
    );
    let (status, html) = page(&server, &cookie, &format!("/projects/{p}/audit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("oncall@example.com") && html.contains("dev@example.com"));

    let denied = client()
        .get(format!("{}/api/v1/projects/{p}/audit", server.base))
        .bearer_auth(&member_token)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
}

/// The same account management over the API: one's password, a project's members
/// (project admins), users (instance admins).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_management_over_the_api() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let root = server.token("root@example.com", true).await;
    let jane = server.token("jane@example.com", false).await;
    let browser = sign_in(&server, "jane@example.com", "correct horse battery").await;
    let password = |token: &str, current: &str| {
        client()
            .post(format!("{}/api/v1/account/password", server.base))
            .bearer_auth(token.to_owned())
            .json(&json!({"current": current, "new": "another long password"}))
            .send()
    };
    let wrong = password(&jane, "nope").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(signed_in(&server, &browser).await);
    let right = password(&jane, "correct horse battery").await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(!signed_in(&server, &browser).await, "browser sessions end");

    let p = server.project_id;
    let members = client()
        .put(format!("{}/api/v1/projects/{p}/members", server.base))
        .bearer_auth(&root)
        .json(&json!({"email": "jane@example.com", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(members.status(), StatusCode::OK);
    let listed = common::api_json(&server, &jane, &format!("/api/v1/projects/{p}/members")).await;
    assert_eq!(listed["members"][0]["role"], "admin", "{listed}");

    let users = common::api_json(&server, &root, "/api/v1/users").await;
    let jane_id = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "jane@example.com")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let deactivate = client()
        .patch(format!("{}/api/v1/users/{jane_id}", server.base))
        .bearer_auth(&root)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), StatusCode::OK);
    assert_eq!(api_status(&server, &jane).await, StatusCode::UNAUTHORIZED);
    let remove = client()
        .delete(format!("{}/api/v1/users/{jane_id}", server.base))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(remove.status(), StatusCode::OK);
    let log = common::api_json(&server, &root, &format!("/api/v1/projects/{p}/audit")).await;
    assert_eq!(log["entries"][0]["action"], "member_added");
}
