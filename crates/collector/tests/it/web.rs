//! The web UI over real HTTP: first-run setup, sign-in and its throttle, sessions, CSRF,
//! the pages, permissions, and escaping of hostile event data.

use crate::common;

use crate::common::{TestServer, client, ingest, page, sign_in};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::common::csrf_in as csrf;

async fn admin(server: &TestServer) -> String {
    mayday_collector::accounts::create_account(
        &server.state.store,
        "admin@example.com",
        Some("Admin"),
        "correct horse battery",
        true,
    )
    .await
    .unwrap();
    sign_in(server, "admin@example.com", "correct horse battery").await
}

#[tokio::test]
async fn first_run_setup_creates_the_admin_once() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let response = client()
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[LOCATION], "/setup");
    // Without the form's token (another site posting it): refused.
    let forged = client()
        .post(format!("{}/setup", server.base))
        .form(&[("email", "evil@example.com"), ("password", "long enough")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let response = common::post_preauth(
        &server,
        "/setup",
        &[
            ("email", "me@example.com"),
            ("name", "Me"),
            ("password", "long enough"),
        ],
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("mayday_session=")
    );
    let again = client()
        .post(format!("{}/setup", server.base))
        .form(&[("email", "evil@example.com"), ("password", "long enough")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.state.store.count_accounts().await.unwrap(), 1);
}

#[tokio::test]
async fn sign_in_sessions_and_the_throttle() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;

    let anonymous = client()
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.headers()[LOCATION],
        "/login",
        "every page needs a session"
    );
    // Asked for a page: sign in, then back to it.
    let deep = client()
        .get(format!("{}/projects/1/issues?status=resolved", server.base))
        .send()
        .await
        .unwrap();
    let to = deep.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(
        to,
        "/login?next=%2Fprojects%2F1%2Fissues%3Fstatus%3Dresolved"
    );
    let (_, login_html) = page(&server, "", &to).await;
    assert!(login_html.contains("name=\"next\" value=\"/projects/1/issues?status=resolved\""));
    let back = common::post_preauth(
        &server,
        "/login",
        &[
            ("email", "admin@example.com"),
            ("password", "correct horse battery"),
            ("next", "/projects/1/issues?status=resolved"),
        ],
        &[],
    )
    .await;
    assert_eq!(
        back.headers()[LOCATION],
        "/projects/1/issues?status=resolved"
    );
    let elsewhere = common::post_preauth(
        &server,
        "/login",
        &[
            ("email", "admin@example.com"),
            ("password", "correct horse battery"),
            ("next", "//evil.example/"),
        ],
        &[],
    )
    .await;
    assert_eq!(elsewhere.headers()[LOCATION], "/", "never another site");
    // A session that no longer exists: told so, and sent back after signing in.
    let stale = client()
        .get(format!("{}/projects/1/issues", server.base))
        .header(COOKIE, "mayday_session=0000")
        .send()
        .await
        .unwrap();
    let to = stale.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, "/login?next=%2Fprojects%2F1%2Fissues&expired=1");
    let (_, login_html) = page(&server, "", &to).await;
    assert!(login_html.contains("Your session expired"));
    // Signing in without the form's token (login CSRF): refused.
    let forged = client()
        .post(format!("{}/login", server.base))
        .form(&[
            ("email", "admin@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (status, html) = page(&server, &cookie, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("default"));

    for _ in 0..5 {
        let wrong = common::post_preauth(
            &server,
            "/login",
            &[("email", "admin@example.com"), ("password", "nope")],
            &[],
        )
        .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let slowed = common::post_preauth(
        &server,
        "/login",
        &[
            ("email", "admin@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    )
    .await;
    assert_eq!(
        slowed.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "failed sign-ins slow down"
    );

    // Signing out needs the CSRF token and ends the session.
    let (_, html) = page(&server, &cookie, "/").await;
    let token = csrf(&html);
    let forged = client()
        .post(format!("{}/logout", server.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let out = client()
        .post(format!("{}/logout", server.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (status, _) = page(&server, &cookie, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the session is gone");
}

#[tokio::test]
async fn issue_pages_show_the_crash_and_resolve_it() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let event = common::panic_event("shop::checkout::apply_coupon", Some("42"));
    let event_id = event["event_id"].as_str().unwrap().to_owned();
    ingest(&server, &event).await;

    let list = format!("/projects/{}/issues", server.project_id);
    let (status, html) = page(&server, &cookie, &list).await;
    assert_eq!(status, 200);
    assert!(html.contains("panic: boom in shop::checkout::apply_coupon"));
    let (_, filtered) = page(&server, &cookie, &format!("{list}?environment=staging")).await;
    assert!(!filtered.contains("boom in"), "filters apply");

    let issue = format!("{list}/1");
    let (status, html) = page(&server, &cookie, &issue).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"mailto:42@example.com\""),
        "the user to write to"
    );
    assert!(
        html.contains("shop::checkout::apply_coupon"),
        "the panicking function"
    );
    let (status, _) = page(&server, &cookie, &format!("{issue}/events/{event_id}")).await;
    assert_eq!(status, 200, "the email's event link");

    let token = csrf(&html);
    let no_token = client()
        .post(format!("{}{issue}/status", server.base))
        .header(COOKIE, &cookie)
        .form(&[("status", "resolved")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let resolve = client()
        .post(format!("{}{issue}/status", server.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", token.as_str()), ("status", "resolved")])
        .send()
        .await
        .unwrap();
    assert_eq!(resolve.status(), StatusCode::SEE_OTHER);
    let (_, unresolved) = page(&server, &cookie, &list).await;
    assert!(
        !unresolved.contains("boom in"),
        "it left the unresolved tab"
    );
    let (_, resolved) = page(&server, &cookie, &format!("{list}?status=resolved")).await;
    assert!(resolved.contains("boom in"));
}

#[tokio::test]
async fn other_projects_are_not_found() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    ingest(&server, &common::panic_event("shop::a", None)).await;
    mayday_collector::accounts::create_account(
        &server.state.store,
        "outsider@example.com",
        None,
        "correct horse battery",
        false,
    )
    .await
    .unwrap();
    let cookie = sign_in(&server, "outsider@example.com", "correct horse battery").await;
    let list = format!("/projects/{}/issues", server.project_id);
    assert_eq!(page(&server, &cookie, &list).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        page(&server, &cookie, &format!("{list}/1")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn hostile_event_data_is_shown_as_text() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let script = "<script>alert('x')</script>";
    let image = "<img src=x onerror=alert(1)>";
    let event = json!({
        "event_id": uuid::Uuid::new_v4().simple().to_string(),
        "message": format!("{script}{image}"),
        "user": {"id": script, "email": format!("javascript:alert(1)//{image}"), "name": image},
        "tags": {"t": script},
        "request": {"url": "javascript:alert(1)", "headers": {"X-Evil": image}},
        "exception": {"values": [{"type": script, "value": image, "stacktrace": {"frames": [
            {"function": script, "filename": image, "in_app": true}
        ]}}]}
    });
    ingest(&server, &event).await;
    let response = client()
        .get(format!(
            "{}/projects/{}/issues/1",
            server.base, server.project_id
        ))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let policy = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "no live script");
    assert!(!html.contains("<img src=x"), "no live image");
    assert!(html.contains("&lt;script&gt;alert"), "shown as text");
    assert!(!html.contains("href=\"javascript:"), "no javascript: links");
}

#[tokio::test]
async fn charts_breakdowns_and_links_between_events() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let mut ids = Vec::new();
    for (release, environment) in [
        ("shop@1.0", "production"),
        ("shop@1.1", "production"),
        ("shop@1.1", "staging"),
    ] {
        let mut event = common::panic_event("shop::checkout::apply_coupon", None);
        event["release"] = json!(release);
        event["environment"] = json!(environment);
        ids.push(event["event_id"].as_str().unwrap().to_owned());
        ingest(&server, &event).await;
    }
    let list = format!("/projects/{}/issues", server.project_id);
    let (_, html) = page(&server, &cookie, &list).await;
    assert!(
        html.contains("<svg class=\"chart\""),
        "a 14-day chart per row"
    );
    assert!(html.contains("3 events, one bar a day"));

    let issue = format!("{list}/1");
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(html.contains("By release") && html.contains("By environment"));
    let release_row = "<td class=\"wrap\">shop@1.1</td><td class=\"num\">2</td>";
    assert!(
        html.contains(release_row),
        "breakdown by release: {release_row}"
    );
    assert!(html.contains("<td class=\"wrap\">staging</td><td class=\"num\">1</td>"));
    // The latest event is shown; it links to the older one and the first.
    assert!(html.contains(&ids[2]));
    assert!(html.contains(&format!("href=\"{issue}/events/{}\">Older", ids[1])));
    assert!(html.contains(&format!("href=\"{issue}/events/{}\">First", ids[0])));
    let (_, first) = page(&server, &cookie, &format!("{issue}/events/{}", ids[0])).await;
    assert!(first.contains(&format!("href=\"{issue}/events/{}\">Newer", ids[1])));
    assert!(first.contains(&format!("href=\"{issue}/events/{}\">Latest", ids[2])));
}

async fn post_form(
    server: &TestServer,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    client()
        .post(format!("{}{path}", server.base))
        .header(COOKIE, cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn project_settings_keys_recipients_and_limits() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let settings = format!("/projects/{}/settings", server.project_id);
    let (status, html) = page(&server, &cookie, &settings).await;
    assert_eq!(status, 200);
    assert!(html.contains(&server.dsn), "the DSN");
    assert!(
        html.contains(&format!("data-copy=\"{}\"", server.dsn)),
        "with a copy button"
    );
    let token = csrf(&html);

    assert_eq!(
        post_form(&server, &cookie, &settings, &[("action", "create_key")]).await,
        StatusCode::FORBIDDEN,
        "CSRF"
    );
    assert_eq!(
        post_form(
            &server,
            &cookie,
            &settings,
            &[("csrf", &token), ("action", "create_key")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let keys = server
        .state
        .store
        .project_keys(server.project_id)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let first = keys[0].id.to_string();
    post_form(
        &server,
        &cookie,
        &settings,
        &[
            ("csrf", &token),
            ("action", "disable_key"),
            ("key_id", &first),
        ],
    )
    .await;
    let refused = reqwest::Client::new()
        .post(server.envelope_url())
        .header("x-sentry-auth", server.auth())
        .body(common::envelope(&json!({"message": "m"})))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "a disabled key is refused"
    );

    post_form(
        &server,
        &cookie,
        &settings,
        &[
            ("csrf", &token),
            ("action", "add_recipient"),
            ("email", "team@shop.example"),
        ],
    )
    .await;
    assert_eq!(
        server
            .state
            .store
            .recipients(server.project_id)
            .await
            .unwrap(),
        ["team@shop.example"]
    );
    post_form(
        &server,
        &cookie,
        &settings,
        &[
            ("csrf", &token),
            ("action", "limits"),
            ("rate_limit", "120"),
            ("spike_events", "50"),
            ("spike_minutes", "5"),
        ],
    )
    .await;
    let project = server
        .state
        .store
        .project(server.project_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            project.rate_limit_per_minute,
            project.spike_threshold,
            project.spike_window_minutes
        ),
        (120, 50, 5)
    );
}

#[tokio::test]
async fn admins_create_users_and_add_them_to_projects() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let (status, html) = page(&server, &cookie, "/admin/users").await;
    assert_eq!(status, 200);
    let token = csrf(&html);
    let created = post_form(
        &server,
        &cookie,
        "/admin/users",
        &[
            ("csrf", &token),
            ("action", "create"),
            ("email", "dev@example.com"),
            ("name", "Dev"),
            ("password", "long enough"),
        ],
    )
    .await;
    assert_eq!(created, StatusCode::SEE_OTHER);
    let dev = sign_in(&server, "dev@example.com", "long enough").await;
    let list = format!("/projects/{}/issues", server.project_id);
    assert_eq!(
        page(&server, &dev, &list).await.0,
        StatusCode::NOT_FOUND,
        "not a member yet"
    );
    assert_eq!(
        page(&server, &dev, "/admin/users").await.0,
        StatusCode::NOT_FOUND,
        "not an admin"
    );
    post_form(
        &server,
        &cookie,
        "/admin/users",
        &[
            ("csrf", &token),
            ("action", "add_member"),
            ("email", "dev@example.com"),
            ("project", "default"),
        ],
    )
    .await;
    assert_eq!(
        page(&server, &dev, &list).await.0,
        StatusCode::OK,
        "a member now"
    );
}

/// The page an email links to: the exception and stack before anything else (source
/// lines and local variables of in-app frames, other frames folded), then request, user,
/// tags, extra and every context as tables, long values folded, a Markdown copy; after a
/// resolve and a new event, the regression badge and the history name who resolved it.
#[tokio::test]
async fn the_event_page_puts_the_crash_first() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let mut event = common::panic_event("shop::checkout::apply_coupon", Some("42"));
    event["exception"]["values"][0]["stacktrace"]["frames"][1] = json!({
        "function": "shop::checkout::apply_coupon", "module": "shop::checkout",
        "filename": "src/checkout.rs", "lineno": 42, "in_app": true,
        "pre_context": ["fn apply_coupon(cart: &Cart) {", "    let code = cart.coupon();"],
        "context_line": "    let pct = RATES[code].unwrap();",
        "post_context": ["    cart.discount(pct)", "}"],
        "vars": {"code": "SPRING<b>", "cart_items": 3}
    });
    event["extra"] = json!({"sql": "SELECT ".repeat(500), "attempt": 2});
    event["contexts"] =
        json!({"os": {"name": "Linux", "version": "6.1"}, "shop": {"cart_id": "c-981"}});
    event["tags"] = json!({"bundle": "team"});
    event["request"] = json!({"method": "POST", "url": "https://shop.example/checkout"});
    ingest(&server, &event).await;

    let issue = format!("/projects/{}/issues/1", server.project_id);
    let (status, html) = page(&server, &cookie, &issue).await;
    assert_eq!(status, 200);
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} on the page"))
    };
    assert!(at("id=\"exception\"") < at("id=\"request\""));
    assert!(at("id=\"request\"") < at("id=\"user\""));
    assert!(
        at("id=\"user\"") < at("id=\"activity\""),
        "charts after the event"
    );
    assert!(at("id=\"activity\"") < at("id=\"users\""));
    assert!(
        html.contains(
            "<mark><span class=\"lineno\">42</span>    let pct = RATES[code].unwrap();</mark>"
        ),
        "the crashing line, numbered"
    );
    assert!(html.contains("<span class=\"lineno\">40</span>fn apply_coupon"));
    assert!(
        html.contains("<th>code</th><td><span class=\"value\">SPRING&lt;b&gt;</span>"),
        "local variables, escaped"
    );
    assert!(
        html.contains("<details class=\"frames\"><summary>1 more frame")
            && html.contains(
                "<details class=\"frame\"><summary><code class=\"wrap\">tokio::runtime::poll"
            ),
        "frames outside the app folded into one row"
    );
    let highlights = &html[at("id=\"highlights\"")..at("id=\"exception\"")];
    for shown in [
        "42@example.com",
        "POST",
        "https://shop.example/checkout",
        "shop@1.0.0",
        "production",
    ] {
        assert!(
            highlights.contains(shown),
            "{shown} in the highlights: {highlights}"
        );
    }
    let extra = &html[at("id=\"extra\"")..at("id=\"contexts\"")];
    assert!(
        extra.contains("<details class=\"long\">") && extra.contains("show all (3500 characters)"),
        "a long value folded"
    );
    assert!(extra.contains("<th>attempt</th><td><span class=\"value\">2</span>"));
    let contexts = &html[at("id=\"contexts\"")..];
    assert!(contexts.contains("<h3>os</h3>") && contexts.contains("Linux"));
    assert!(
        contexts.contains("<h3>shop</h3>") && contexts.contains("c-981"),
        "every context"
    );
    assert!(html.contains("<th>bundle</th>"), "tags");
    assert!(
        html.contains("data-copy=\"### panic: boom in shop::checkout::apply\\_coupon"),
        "Markdown copy"
    );
    assert!(html.contains("at shop::checkout::apply_coupon (src/checkout.rs:42)"));
    assert!(html.contains("Grouped by exception type and the functions of the stack"));

    // Resolved, then seen again in a new release: a regression.
    let token = csrf(&html);
    let resolve = client()
        .post(format!("{}{issue}/status", server.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", token.as_str()), ("status", "resolved")])
        .send()
        .await
        .unwrap();
    assert_eq!(resolve.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(!html.contains("Regressed"), "no badge before a regression");
    event["event_id"] = json!(uuid::Uuid::new_v4().simple().to_string());
    event["release"] = json!("shop@2.4.1");
    ingest(&server, &event).await;
    let (_, html) = page(&server, &cookie, &issue).await;
    let badge = &html[html
        .find("class=\"badge regressed\"")
        .expect("a regression badge")..];
    let badge = &badge[..badge.find("</p>").unwrap()];
    assert!(badge.contains("in <code>shop@2.4.1</code>"), "{badge}");
    assert!(
        badge.contains("after being resolved in <code>shop@1.0.0</code> by admin@example.com"),
        "{badge}"
    );
    let history = &html[html.find("id=\"history\"").unwrap()..];
    assert!(
        history.contains("Marked <strong>resolved</strong> by admin@example.com"),
        "{history}"
    );
    assert!(history.contains("Regressed"));
}

/// A project without events shows its DSN, the setup lines and a test event button; a
/// member (not only an admin) sends the test event, which becomes an issue like any
/// other; the tabs count issues per status.
#[tokio::test]
async fn an_empty_project_shows_how_to_send_the_first_event() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let cookie = sign_in(&server, "member@example.com", "correct horse battery").await;
    let list = format!("/projects/{}/issues", server.project_id);
    let (status, html) = page(&server, &cookie, &list).await;
    assert_eq!(status, 200);
    assert!(html.contains("Send your first event"));
    assert!(
        html.contains(&format!("<code>{}</code>", server.dsn)),
        "the DSN"
    );
    assert!(html.contains(&format!("data-copy=\"{}\"", server.dsn)));
    assert!(html.contains(".layer(reporter.layer())") && html.contains(".wrap(reporter.actix())"));
    assert!(html.contains("unresolved <span class=\"count\">0</span>"));

    let action = format!("{}/projects/{}/test-event", server.base, server.project_id);
    let forged = client()
        .post(&action)
        .header(COOKIE, &cookie)
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let sent = client()
        .post(&action)
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let issue = sent.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(issue.starts_with(&format!("{list}/")), "{issue}");
    let (status, html) = page(&server, &cookie, &issue).await;
    assert_eq!(status, 200);
    assert!(html.contains("TestEvent"));
    assert!(html.contains("sent from the project page by member@example.com"));

    let (_, html) = page(&server, &cookie, &list).await;
    assert!(
        !html.contains("Send your first event"),
        "gone once there is an issue"
    );
    assert!(html.contains("unresolved <span class=\"count\">1</span>"));
    assert!(html.contains("resolved <span class=\"count\">0</span>"));

    // Someone else's project: nothing to see, nothing to send.
    let other = server.state.store.create_project("other").await.unwrap();
    let (status, _) = page(
        &server,
        &cookie,
        &format!("/projects/{}/issues", other.project.id),
    )
    .await;
    assert_eq!(status, 404);
    let refused = client()
        .post(format!(
            "{}/projects/{}/test-event",
            server.base, other.project.id
        ))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
}

/// Events turned away for a wrong key, a disabled key or the rate limit are counted per
/// project and shown on its issue list and settings page, instead of lost in silence.
#[tokio::test]
async fn rejected_events_show_on_the_project() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--rate-limit", "2"]).await;
    let cookie = admin(&server).await;
    let send = async |auth: String| {
        client()
            .post(server.envelope_url())
            .header("x-sentry-auth", auth)
            .body(common::envelope(&common::panic_event("shop::pay", None)))
            .send()
            .await
            .unwrap()
            .status()
    };
    let wrong = "Sentry sentry_version=7, sentry_key=0123456789abcdef0123456789abcdef".to_owned();
    assert_eq!(send(wrong.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(send(wrong).await, StatusCode::FORBIDDEN);
    for _ in 0..2 {
        assert_eq!(send(server.auth()).await, StatusCode::OK);
    }
    assert_eq!(send(server.auth()).await, StatusCode::TOO_MANY_REQUESTS);

    let (_, html) = page(
        &server,
        &cookie,
        &format!("/projects/{}/issues", server.project_id),
    )
    .await;
    let notice = &html[html.find("id=\"rejected\"").expect("the rejections")..];
    let notice = &notice[..notice.find("</p>").unwrap()];
    assert!(
        notice
            .contains("3 events rejected in the last hour: </strong>2 unknown key, 1 rate limit."),
        "{notice}"
    );
    assert!(notice.contains("compare its DSN with the keys"), "{notice}");
    let (_, settings) = page(
        &server,
        &cookie,
        &format!("/projects/{}/settings", server.project_id),
    )
    .await;
    assert!(settings.contains("3 events rejected in the last hour"));

    // Another project's page says nothing about this one's rejections.
    let other = server.state.store.create_project("other").await.unwrap();
    let (_, html) = page(
        &server,
        &cookie,
        &format!("/projects/{}/issues", other.project.id),
    )
    .await;
    assert!(!html.contains("id=\"rejected\""));
}

/// Instance admins create projects from the UI (its creator becomes a project admin and
/// lands on the page that shows the DSN); names are checked; members cannot.
#[tokio::test]
async fn admins_create_projects_in_the_ui() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let (_, home) = page(&server, &cookie, "/").await;
    assert!(home.contains("id=\"new-project\""));
    let create = async |cookie: &str, name: &str| {
        let (_, home) = page(&server, cookie, "/").await;
        client()
            .post(format!("{}/projects", server.base))
            .header(COOKIE, cookie)
            .form(&[("csrf", csrf(&home).as_str()), ("name", name)])
            .send()
            .await
            .unwrap()
    };
    let created = create(&cookie, "shop <b>").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let target = created.headers()[LOCATION].to_str().unwrap().to_owned();
    let (status, html) = page(&server, &cookie, &target).await;
    assert_eq!(status, 200);
    assert!(html.contains("shop &lt;b&gt;") && html.contains("Send your first event"));
    let project = server
        .state
        .store
        .project_by_name("shop <b>")
        .await
        .unwrap();
    let members = server.state.store.members(project.id).await.unwrap();
    assert_eq!(members[0].0.email, "admin@example.com");
    assert_eq!(members[0].1, mayday_collector::store::ProjectRole::Admin);

    let again = create(&cookie, "shop <b>").await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.text().await.unwrap().contains("exists already"));
    assert_eq!(
        create(&cookie, "  ").await.status(),
        StatusCode::BAD_REQUEST
    );

    server.token("member@example.com", false).await;
    let member = sign_in(&server, "member@example.com", "correct horse battery").await;
    let (_, home) = page(&server, &member, "/").await;
    assert!(!home.contains("id=\"new-project\""));
    assert_eq!(
        create(&member, "mine").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Triage at list scale: search operators, selects filled from the project's data,
/// previous/next pages keeping the filters, counts on the tabs, and many issues resolved
/// at once by a member (another project's issue ids are left alone).
#[tokio::test]
async fn the_list_searches_pages_and_changes_many_at_once() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let cookie = sign_in(&server, "member@example.com", "correct horse battery").await;
    // 55 issues (more than a page), one with a user, one in staging, one a warning.
    for n in 0..55 {
        let mut event = common::panic_event(&format!("shop::step{n}"), None);
        if n == 3 {
            event["user"] = json!({"id": "9", "email": "Jane@Example.com"});
        }
        if n == 4 {
            event["environment"] = json!("staging");
            event["release"] = json!("shop@2.0.0");
        }
        if n == 5 {
            event["level"] = json!("warning");
        }
        ingest(&server, &event).await;
    }
    let list = format!("/projects/{}/issues", server.project_id);
    let (_, html) = page(&server, &cookie, &list).await;
    assert!(html.contains("unresolved <span class=\"count\">55</span>"));
    assert!(
        html.contains("<option value=\"staging\">staging</option>"),
        "environments from the data"
    );
    assert!(html.contains("<option value=\"shop@2.0.0\">shop@2.0.0</option>"));
    assert!(
        html.contains("id=\"search-help\""),
        "the syntax on the page"
    );
    assert!(html.contains("rel=\"next\""));
    assert!(!html.contains("rel=\"prev\""));

    let search = async |q: &str| {
        let url = format!(
            "{list}?query={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        page(&server, &cookie, &url).await
    };
    let (_, html) = search("user.email:jane@example.com").await;
    assert!(
        html.contains("boom in shop::step3<") && !html.contains("boom in shop::step4<"),
        "by user email"
    );
    let (_, html) = search("environment:staging").await;
    assert!(html.contains("boom in shop::step4<") && !html.contains("boom in shop::step3<"));
    let (_, html) = search("level:warning").await;
    assert!(html.contains("boom in shop::step5<") && !html.contains("boom in shop::step4<"));
    let (_, html) = search("step1 boom").await;
    assert!(
        html.contains("boom in shop::step17<") && !html.contains("boom in shop::step2<"),
        "every word"
    );
    let (status, html) = search("level:loud").await;
    assert_eq!(status, 400);
    assert!(html.contains("level:loud is not a valid search"), "{html}");

    // Page two keeps the sort, and links back.
    let (_, html) = page(&server, &cookie, &format!("{list}?sort=first_seen")).await;
    let next = html[html.find("rel=\"next\"").unwrap() - 200..]
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        next.contains("sort=first_seen") && next.contains("cursor=50"),
        "{next}"
    );
    let (_, second) = page(&server, &cookie, &next).await;
    assert!(second.contains("rel=\"prev\""));
    assert_eq!(second.matches("name=\"issue\"").count(), 5);

    // Select three (and one of another project): resolved at once, audited.
    let other = server.state.store.create_project("other").await.unwrap();
    let ids: Vec<i64> = server
        .state
        .store
        .list_issues(
            server.project_id,
            &mayday_collector::store::IssueFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .take(3)
        .map(|i| i.id)
        .collect();
    let mut foreign = common::panic_event("elsewhere::x", None);
    foreign["event_id"] = json!(uuid::Uuid::new_v4().simple().to_string());
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
        .body(common::envelope(&foreign))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let foreign_id = server
        .state
        .store
        .list_issues(
            other.project.id,
            &mayday_collector::store::IssueFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()[0]
        .id;
    let (_, html) = page(&server, &cookie, &list).await;
    let mut form = vec![
        ("csrf".to_owned(), csrf(&html)),
        ("status".into(), "resolved".into()),
        ("back".into(), format!("{list}?sort=events")),
    ];
    for id in ids.iter().chain([&foreign_id]) {
        form.push(("issue".into(), id.to_string()));
    }
    let response = client()
        .post(format!("{}{list}/bulk", server.base))
        .header(COOKIE, &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[LOCATION],
        format!("{list}?sort=events").as_str()
    );
    let (_, html) = page(&server, &cookie, &list).await;
    assert!(html.contains("unresolved <span class=\"count\">52</span>"));
    assert!(html.contains("resolved <span class=\"count\">3</span>"));
    let foreign_issue = server.state.store.issue(foreign_id).await.unwrap().unwrap();
    assert_eq!(
        foreign_issue.status,
        mayday_collector::store::IssueStatus::Unresolved,
        "another project's issue untouched"
    );
    let history = server
        .state
        .store
        .issue_history(server.project_id, ids[0])
        .await
        .unwrap();
    assert_eq!(history[0].actor, "member@example.com");

    // An open redirect is not one.
    form[2] = ("back".into(), "https://evil.example/".into());
    let response = client()
        .post(format!("{}{list}/bulk", server.base))
        .header(COOKIE, &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[LOCATION], list.as_str());
}

/// From the issue page: ignore until more events (it comes back by itself), resolve in
/// the next release (an event of the same release keeps it resolved, a newer one
/// reopens it); bad values are named.
#[tokio::test]
async fn ignore_until_and_resolve_in_next_release_from_the_issue_page() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let event = common::panic_event("shop::checkout::pay", None);
    ingest(&server, &event).await;
    let issue = format!("/projects/{}/issues/1", server.project_id);
    let post = async |fields: &[(&str, &str)]| {
        let (_, html) = page(&server, &cookie, &issue).await;
        let mut form = vec![("csrf", csrf(&html))];
        form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        client()
            .post(format!("{}{issue}/status", server.base))
            .header(COOKIE, &cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    let again = async |release: &str| {
        let mut event = common::panic_event("shop::checkout::pay", None);
        event["release"] = json!(release);
        ingest(&server, &event).await;
    };
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(html.contains("Resolve in next release") && html.contains("Ignore until"));

    let bad = post(&[("status", "ignored"), ("until", "events"), ("count", "0")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("The count is a number from 1")
    );

    post(&[("status", "ignored"), ("until", "events"), ("count", "2")]).await;
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(
        html.contains("Ignored until it has 3 events (now 1)"),
        "{html}"
    );
    again("shop@1.0.0").await;
    again("shop@1.0.0").await;
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(
        html.contains("<strong>unresolved</strong>"),
        "back by itself"
    );

    post(&[("status", "resolved"), ("until", "next_release")]).await;
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(html.contains("Resolved in the release after <code>shop@1.0.0</code>"));
    again("shop@1.0.0").await;
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(
        html.contains("<strong>resolved</strong>"),
        "the same release keeps it resolved"
    );
    again("shop@1.1.0").await;
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(html.contains("<strong>unresolved</strong>"));
    assert!(html.contains("class=\"badge regressed\""), "a regression");
}

/// An issue's events, a page at a time, filtered by release, environment and user (by
/// id or email), linked from the issue page.
#[tokio::test]
async fn an_issues_events_are_listed_filtered_and_paged() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    for n in 0..52 {
        let mut event = common::panic_event("shop::checkout::pay", (n % 2 == 0).then_some("42"));
        if n == 7 {
            event["release"] = json!("shop@2.0.0");
            event["environment"] = json!("staging");
        }
        ingest(&server, &event).await;
    }
    let issue = format!("/projects/{}/issues/1", server.project_id);
    let (_, html) = page(&server, &cookie, &issue).await;
    assert!(
        html.contains(&format!("href=\"{issue}/events\"")),
        "linked from the issue"
    );
    let (status, html) = page(&server, &cookie, &format!("{issue}/events")).await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("<tr><td data-label=\"When\"><time").count(),
        50,
        "a page"
    );
    assert!(html.contains("rel=\"next\""));
    assert!(
        html.contains("<option value=\"shop@2.0.0\">"),
        "the issue's releases"
    );
    let (_, html) = page(&server, &cookie, &format!("{issue}/events?cursor=50")).await;
    assert_eq!(html.matches("<tr><td data-label=\"When\"><time").count(), 2);
    assert!(html.contains("rel=\"prev\""));
    let (_, html) = page(
        &server,
        &cookie,
        &format!("{issue}/events?release=shop%402.0.0"),
    )
    .await;
    assert_eq!(html.matches("<tr><td data-label=\"When\"><time").count(), 1);
    assert!(html.contains("staging"));
    let (_, html) = page(
        &server,
        &cookie,
        &format!("{issue}/events?user=42%40example.com"),
    )
    .await;
    assert_eq!(
        html.matches("<tr><td data-label=\"When\"><time").count(),
        26,
        "by email: the user's events"
    );
    let (_, html) = page(
        &server,
        &cookie,
        &format!("{issue}/events?user=42&environment=staging"),
    )
    .await;
    assert_eq!(
        html.matches("<tr><td data-label=\"When\"><time").count(),
        0,
        "both filters"
    );
    let (status, _) = page(&server, &cookie, &format!("{issue}/events?cursor=-1")).await;
    assert_eq!(status, 400);
}

/// Selected on the list and merged (into the issue with the most events); the merged
/// issue's links lead to the target; unmerged from the target's page.
#[tokio::test]
async fn issues_merge_from_the_list_and_unmerge_from_the_issue() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let cookie = sign_in(&server, "member@example.com", "correct horse battery").await;
    for _ in 0..3 {
        ingest(
            &server,
            &common::panic_event("shop::checkout::pay", Some("1")),
        )
        .await;
    }
    let small = common::panic_event("shop::checkout::pay_v2", Some("2"));
    let small_event = small["event_id"].as_str().unwrap().to_owned();
    ingest(&server, &small).await;
    let list = format!("/projects/{}/issues", server.project_id);
    let (_, html) = page(&server, &cookie, &list).await;
    assert!(html.contains("name=\"merge\""));
    // Ids as the store gave them (an upsert may use up sequence numbers).
    let issues = server.issues().await;
    let big = issues
        .iter()
        .find(|i| i.event_count == 3)
        .unwrap()
        .id
        .to_string();
    let small_id = issues
        .iter()
        .find(|i| i.event_count == 1)
        .unwrap()
        .id
        .to_string();
    let merge = async |ids: &[&str]| {
        let (_, html) = page(&server, &cookie, &list).await;
        let mut form = vec![("csrf", csrf(&html)), ("merge", "1".to_owned())];
        form.extend(ids.iter().map(|id| ("issue", (*id).to_owned())));
        client()
            .post(format!("{}{list}/bulk", server.base))
            .header(COOKIE, &cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(
        merge(&[&big]).await.status(),
        StatusCode::BAD_REQUEST,
        "one is not a merge"
    );
    let merged = merge(&[&small_id, &big]).await;
    assert_eq!(merged.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        merged.headers()[LOCATION],
        format!("{list}/{big}").as_str(),
        "into the bigger one"
    );
    let (_, html) = page(&server, &cookie, &list).await;
    assert!(html.contains("unresolved <span class=\"count\">1</span>"));
    let (_, issue) = page(&server, &cookie, &format!("{list}/{big}")).await;
    assert!(
        issue.contains("4 events · <a href=\"#users\">2 users</a>"),
        "counts joined"
    );
    assert!(issue.contains("Merged into this issue"));
    // An old link to the merged issue's event still leads to it.
    let old_link = client()
        .get(format!(
            "{}{list}/{small_id}/events/{small_event}",
            server.base
        ))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(old_link.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        old_link.headers()[LOCATION],
        format!("{list}/{big}/events/{small_event}").as_str()
    );

    let unmerged = client()
        .post(format!("{}{list}/{small_id}/unmerge", server.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf(&issue))])
        .send()
        .await
        .unwrap();
    assert_eq!(unmerged.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&server, &cookie, &list).await;
    assert!(html.contains("unresolved <span class=\"count\">2</span>"));
    let (_, issue) = page(&server, &cookie, &format!("{list}/{big}")).await;
    assert!(
        issue.contains("3 events · <a href=\"#users\">1 user</a>"),
        "counts given back"
    );
}

/// Members comment on an issue; comments show in its history, in time order with the
/// status changes, as text; empty or oversized comments are refused.
#[tokio::test]
async fn comments_join_the_issue_history() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let cookie = sign_in(&server, "member@example.com", "correct horse battery").await;
    ingest(&server, &common::panic_event("shop::checkout::pay", None)).await;
    let issue = format!("/projects/{}/issues/1", server.project_id);
    let comment = async |body: &str| {
        let (_, html) = page(&server, &cookie, &issue).await;
        client()
            .post(format!("{}{issue}/comments", server.base))
            .header(COOKIE, &cookie)
            .form(&[("csrf", csrf(&html).as_str()), ("body", body)])
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        comment("Ticket SHOP-12; <b>Ann</b> is on it\nsecond line").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(comment("   ").await, StatusCode::BAD_REQUEST);
    assert_eq!(comment(&"x".repeat(5001)).await, StatusCode::BAD_REQUEST);
    let (_, html) = page(&server, &cookie, &issue).await;
    let history = &html[html.find("id=\"history\"").unwrap()..];
    assert!(history.contains("member@example.com commented"));
    assert!(
        history.contains("Ticket SHOP-12; &lt;b&gt;Ann&lt;/b&gt; is on it\nsecond line"),
        "{history}"
    );
    let forged = client()
        .post(format!("{}{issue}/comments", server.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "no"), ("body", "hi")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

/// Words in the search box also find an issue by its events' tag values and messages.
#[tokio::test]
async fn search_words_find_tag_values_and_messages() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let mut tagged = common::panic_event("shop::checkout::pay", None);
    tagged["tags"] = json!({"bundle": "team-plan-2024"});
    ingest(&server, &tagged).await;
    let mut logged = common::panic_event("shop::cart::add", None);
    logged["logentry"] = json!({"message": "cart total overflowed for coupon ZEBRA"});
    ingest(&server, &logged).await;
    ingest(&server, &common::panic_event("shop::other", None)).await;
    let list = format!("/projects/{}/issues", server.project_id);
    let (_, html) = page(&server, &cookie, &format!("{list}?query=team-plan")).await;
    assert!(
        html.contains("boom in shop::checkout::pay<"),
        "by a tag value"
    );
    assert!(!html.contains("boom in shop::other<"));
    let (_, html) = page(&server, &cookie, &format!("{list}?query=ZEBRA")).await;
    assert!(html.contains("boom in shop::cart::add<"), "by the message");
    assert!(!html.contains("boom in shop::checkout::pay<"));
}

/// Search as people use it: an event id pasted from an error page opens its event (the
/// full id, with dashes, or its first 8 characters); an "all" tab; a person found by any
/// of their identities; a mistake said above the list, the page intact; unknown paths a
/// page, not JSON; a failed sign-in keeps the email typed.
#[tokio::test]
async fn search_finds_events_and_people_and_says_what_is_wrong() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let cookie = admin(&server).await;
    let mut jane = common::panic_event("shop::checkout::pay", None);
    jane["user"] = json!({"id": "42", "email": "jane@example.com", "name": "Jane Doe"});
    let event_id = jane["event_id"].as_str().unwrap().to_owned();
    ingest(&server, &jane).await;
    ingest(&server, &common::panic_event("shop::cart::add", Some("7"))).await;
    let list = format!("/projects/{}/issues", server.project_id);
    let issue_id = server
        .state
        .store
        .events_by_id(server.project_id, &event_id)
        .await
        .unwrap()[0]
        .issue_id;
    let event_page = format!("{list}/{issue_id}/events/{event_id}");

    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &event_id[..8],
        &event_id[8..12],
        &event_id[12..16],
        &event_id[16..20],
        &event_id[20..]
    );
    for pasted in [
        event_id.clone(),
        dashed.to_uppercase(),
        event_id[..8].to_owned(),
    ] {
        let response = client()
            .get(format!("{}{list}", server.base))
            .query(&[("query", pasted.as_str())])
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{pasted}");
        assert_eq!(
            response.headers()[LOCATION],
            event_page.as_str(),
            "{pasted}"
        );
    }
    // The same from its own path, and over the API.
    let by_id = client()
        .get(format!(
            "{}/projects/{}/events/{}",
            server.base,
            server.project_id,
            &event_id[..8]
        ))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.headers()[LOCATION], event_page.as_str());
    let token = server.token("api@example.com", true).await;
    let api = common::api_json(
        &server,
        &token,
        &format!("/api/v1/projects/{}/events/{dashed}", server.project_id),
    )
    .await;
    assert_eq!(api["event"]["event_id"], event_id.as_str());
    assert_eq!(api["issue"]["id"], issue_id);
    let missing = client()
        .get(format!(
            "{}/api/v1/projects/{}/events/{}",
            server.base,
            server.project_id,
            "0".repeat(32)
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // People by name, email or id; `user:` by any identity.
    for (query, found) in [
        ("Jane", true),
        ("jane@example", true),
        ("user:42", true),
        ("user:jane@example.com", true),
        ("user:nobody", false),
    ] {
        let (status, html) = page(
            &server,
            &cookie,
            &format!("{list}?status=all&query={query}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(html.contains("shop::checkout::pay"), found, "{query}");
        assert!(
            !html.contains("shop::cart::add"),
            "{query} finds Jane's issue only"
        );
    }
    // The "all" tab lists every status.
    server
        .state
        .store
        .set_issue_status(issue_id, mayday_collector::store::IssueStatus::Ignored)
        .await
        .unwrap();
    let (_, html) = page(&server, &cookie, &format!("{list}?status=all")).await;
    assert!(html.contains("shop::checkout::pay") && html.contains("shop::cart::add"));
    assert!(
        html.contains("aria-current=\"page\">all"),
        "the all tab is current"
    );

    // Mistakes are said above the list; the page (navigation, tabs, form) stays.
    for (query, said) in [
        ("level:banana", "level:banana is not a valid search"),
        ("foo:bar", "foo: is not a search key"),
    ] {
        let (status, html) = page(&server, &cookie, &format!("{list}?query={query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains(said), "{query}: {html}");
        assert!(
            html.contains("role=\"search\"") && html.contains("Issue status"),
            "the page is intact"
        );
    }

    // A path nothing answers: a page for a browser, JSON for the API.
    let (status, html) = page(&server, &cookie, "/projects/1/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    let api = client()
        .get(format!("{}/api/v1/nowhere", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert!(api.text().await.unwrap().starts_with("{\"detail\""));

    // A wrong password: the form again, the email still in it.
    let again = common::post_preauth(
        &server,
        "/login",
        &[("email", "admin@example.com"), ("password", "wrong")],
        &[],
    )
    .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("value=\"admin@example.com\"")
    );
}
