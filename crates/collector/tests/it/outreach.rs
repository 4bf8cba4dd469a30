//! Writing to the users a crash hit, with a real SMTP server: personal emails naming
//! each user and what they did, once per user and issue, a weekly most, unsubscribe, the
//! "it's fixed" follow-up when a newer release reports, and hostile values kept inert.

use crate::common;

use std::time::Duration;

use crate::common::{TestServer, api_json, client, ingest, panic_event};
use mayday_collector::outreach;
use mayday_collector::store::now_ms;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0";

/// A collector on a new SQLite file (kept while the test holds it) mailing via `smtp`.
async fn users(server: &TestServer, token: &str, issue_id: i64) -> Vec<Value> {
    api_json(server, token, &format!("/api/v1/issues/{issue_id}/users")).await["users"]
        .as_array()
        .unwrap()
        .clone()
}

async fn write_to(
    server: &TestServer,
    token: &str,
    issue_id: i64,
    body: Value,
) -> reqwest::Response {
    client()
        .post(format!("{}/api/v1/issues/{issue_id}/outreach", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Writes to every contactable user of `issue_id`: the answer (`queued`, `refused`).
async fn write_to_all(server: &TestServer, token: &str, issue_id: i64) -> Value {
    write_to(server, token, issue_id, json!({"users": "all"}))
        .await
        .json()
        .await
        .unwrap()
}

/// PUTs the outreach `settings` to `url` as `token`; the answer's status.
async fn put_settings(url: &str, token: &str, settings: &Value) -> StatusCode {
    client()
        .put(url)
        .bearer_auth(token)
        .json(settings)
        .send()
        .await
        .unwrap()
        .status()
}

/// An event of `function` for user `email` (named `name`) on `url`, in `release`.
fn crash(function: &str, email: &str, name: &str, url: &str, release: &str) -> Value {
    let mut event = panic_event(function, None);
    event["release"] = json!(release);
    event["user"] = json!({"id": email, "email": email, "name": name});
    event["request"] = json!({"method": "GET", "url": url, "headers": {"User-Agent": FIREFOX}});
    event
}

async fn issue_of(server: &TestServer, token: &str, function: &str) -> i64 {
    let list = api_json(
        server,
        token,
        &format!("/api/v1/projects/{}/issues", server.project_id),
    )
    .await;
    list["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["culprit"].as_str().unwrap_or_default().contains(function))
        .unwrap_or_else(|| panic!("an issue of {function}: {list}"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_apps_crash_for_two_users_then_each_gets_one_personal_email() {
    let mail = common::with_smtp(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    // What customers call the app and its pages, as the team sets them.
    let admin = server.token("owner@example.com", true).await;
    let named = client()
        .patch(format!(
            "{}/api/v1/projects/{}",
            server.base, server.project_id
        ))
        .bearer_auth(&admin)
        .json(&json!({"sender_name": "Acme Shop", "route_names": "GET /panic = checking out"}))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), StatusCode::OK);
    let (reporter, app_url) = common::demo_app(server, "production").await;
    for (user, bundle) in [
        ("42:jane@example.com:Jane Doe", "team"),
        ("43:bob@example.com:Bob Stone", "solo"),
    ] {
        let response = reqwest::Client::new()
            .get(format!("{app_url}/panic?bundle={bundle}"))
            .header("x-demo-user", user)
            .header("user-agent", FIREFOX)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
    }
    assert!(reporter.flush(Duration::from_secs(10)).await);
    let issue_id = common::latest_issue_id(server, &member).await;
    let before = users(server, &member, issue_id).await;
    assert_eq!(before.len(), 2);
    assert!(
        before
            .iter()
            .all(|u| u["contactable"] == true && u["contacted_at"].is_null())
    );

    let sent = write_to(server, &member, issue_id, json!({"users": "all"})).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let sent: Value = sent.json().await.unwrap();
    assert_eq!(sent["queued"].as_array().unwrap().len(), 2, "{sent}");
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    for (email, name, bundle) in [
        ("jane@example.com", "Jane Doe", "team"),
        ("bob@example.com", "Bob Stone", "solo"),
    ] {
        let mail = mails
            .iter()
            .find(|m| m.recipients == [email])
            .unwrap_or_else(|| panic!("an email to {email}"));
        assert_eq!(
            mail.subject(),
            "Sorry about the error while you were checking out"
        );
        let (plain, html) = mail.parts();
        assert!(plain.starts_with(&format!("Hi {name},")), "{plain}");
        // The customer's words: never the HTTP method, the query or the project's name.
        assert!(plain.contains("while you were checking out"), "{plain}");
        assert!(plain.contains("The Acme Shop team"), "{plain}");
        assert!(
            !plain.contains("GET")
                && !plain.contains(&format!("bundle={bundle}"))
                && !plain.contains("default"),
            "{plain}"
        );
        assert!(
            plain.contains("because you were using Acme Shop"),
            "{plain}"
        );
        assert!(plain.contains("earlier today at "), "{plain}");
        assert!(
            plain.contains(&format!("{}/unsubscribe/", server.base)),
            "{plain}"
        );
        assert!(html.contains(&format!("Hi {name},")) && html.contains("Get no more messages"));
        let raw = String::from_utf8_lossy(&mail.raw);
        assert!(raw.contains(&format!("List-Unsubscribe: <{}/unsubscribe/", server.base)));
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(
            raw.contains("From: \"Acme Shop\" <") || raw.contains("From: Acme Shop <"),
            "{raw}"
        );
        if email == "jane@example.com" {
            // Printed for the README: `cargo test -p mayday-collector --test outreach -- --nocapture`.
            println!("To: {email}\nSubject: {}\n\n{plain}", mail.subject());
        }
    }

    // The same users again, the same day: refused, with the reason.
    let after = users(server, &member, issue_id).await;
    assert!(
        after
            .iter()
            .all(|u| u["contacted_at"].is_string() && u["contactable"] == false)
    );
    let keys: Vec<Value> = after.iter().map(|u| u["key"].clone()).collect();
    let again: Value = write_to(server, &member, issue_id, json!({"users": keys}))
        .await
        .json()
        .await
        .unwrap();
    assert!(again["queued"].as_array().unwrap().is_empty());
    assert!(
        again["refused"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["reason"] == "already_contacted"),
        "{again}"
    );

    // Bob unsubscribes with his link (no sign-in); his next crash is not written about.
    let (bob_plain, _) = mails
        .iter()
        .find(|m| m.recipients == ["bob@example.com"])
        .unwrap()
        .parts();
    let link = bob_plain
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/unsubscribe/", server.base)))
        .unwrap()
        .to_owned();
    let confirm = client().get(&link).send().await.unwrap();
    assert_eq!(confirm.status(), StatusCode::OK);
    // The project's own page: its customers' name for it, not the collector's.
    let page = confirm.text().await.unwrap();
    assert!(
        page.contains("<title>Unsubscribe · Acme Shop</title>"),
        "{page}"
    );
    assert!(
        page.contains("no more messages from Acme Shop") && !page.contains("Mayday"),
        "{page}"
    );
    let done = client().post(&link).send().await.unwrap();
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("no more messages from Acme Shop")
    );
    ingest(
        server,
        &crash(
            "shop::cart::add",
            "bob@example.com",
            "Bob Stone",
            "https://shop.example/cart",
            "shop@1.0.0",
        ),
    )
    .await;
    let cart = issue_of(server, &member, "shop::cart::add").await;
    let refused: Value = write_to_all(server, &member, cart).await;
    assert!(
        refused["queued"].as_array().unwrap().is_empty(),
        "{refused}"
    );
    assert_eq!(
        users(server, &member, cart).await[0]["not_contactable"],
        "do_not_contact"
    );

    // At most two messages a week to one address from one project.
    for function in ["shop::search::run", "shop::account::save"] {
        ingest(
            server,
            &crash(
                function,
                "jane@example.com",
                "Jane Doe",
                "https://shop.example/x",
                "shop@1.0.0",
            ),
        )
        .await;
    }
    let search = issue_of(server, &member, "shop::search::run").await;
    let account = issue_of(server, &member, "shop::account::save").await;
    let second: Value = write_to_all(server, &member, search).await;
    assert_eq!(second["queued"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(
        users(server, &member, account).await[0]["not_contactable"],
        "weekly_limit"
    );
    smtp.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 3, "nobody got more than they should");

    // Who was written to, when and by whom: the issue page and the audit log.
    let cookie = common::sign_in(server, "member@example.com", "correct horse battery").await;
    let (_, page) = common::page(
        server,
        &cookie,
        &format!("/projects/{}/issues/{issue_id}", server.project_id),
    )
    .await;
    assert!(
        page.contains("by member@example.com (personal)"),
        "the users table says who wrote"
    );
    let (_, outreach_page) = common::page(
        server,
        &cookie,
        &format!("/projects/{}/issues/{issue_id}/outreach", server.project_id),
    )
    .await;
    assert!(
        outreach_page.contains("GET /panic?bundle=team")
            && outreach_page.contains("Firefox 86 on Windows 10")
    );
    assert!(
        outreach_page.contains("span class=\"status-sent\""),
        "delivery shown"
    );
    let audit = server
        .state
        .store
        .audit_log(server.project_id, 20)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action.to_string() == "outreach_sent")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixed_follow_up_goes_out_once_when_a_newer_release_reports() {
    let mail = common::with_smtp(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let store = &server.state.store;
    for (email, name) in [
        ("jane@example.com", "Jane Doe"),
        ("bob@example.com", "Bob Stone"),
    ] {
        ingest(
            server,
            &crash(
                "shop::checkout::apply_coupon",
                email,
                name,
                "https://shop.example/checkout?bundle=team",
                "shop@1.4.2",
            ),
        )
        .await;
    }
    let issue_id = issue_of(server, &member, "apply_coupon").await;
    // Jane was written to already: the follow-up is for the others.
    let jane = users(server, &member, issue_id)
        .await
        .into_iter()
        .find(|u| u["email"] == "jane@example.com")
        .unwrap();
    let first: Value = write_to(server, &member, issue_id, json!({"users": [jane["key"]]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["queued"].as_array().unwrap().len(), 1);

    // Resolved on the issue page with "tell the affected users when the fix is live".
    let cookie = common::sign_in(server, "member@example.com", "correct horse battery").await;
    let path = format!("/projects/{}/issues/{issue_id}", server.project_id);
    let (_, page) = common::page(server, &cookie, &path).await;
    assert!(page.contains("Resolve, and tell the affected users when the fix is live"));
    let resolved = client()
        .post(format!("{}{path}/status", server.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", common::csrf_in(&page)),
            ("status", "resolved".into()),
            ("follow_up", "1".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), StatusCode::SEE_OTHER);

    let check = async || outreach::check_fixes(store, now_ms()).await.unwrap();
    assert_eq!(check().await, 0, "no newer release yet");
    // A newer release, but from staging: not live in production yet.
    let mut staging = panic_event("shop::other::step", None);
    staging["release"] = json!("shop@1.4.3");
    staging["environment"] = json!("staging");
    ingest(server, &staging).await;
    assert_eq!(check().await, 0, "staging does not count");
    // The same release from production: the fix is live; the follow-up goes out once.
    let mut live = staging.clone();
    live["event_id"] = json!(uuid::Uuid::new_v4().simple().to_string());
    live["environment"] = json!("production");
    ingest(server, &live).await;
    assert_eq!(check().await, 1);
    assert_eq!(check().await, 0, "once");
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    let fixed = mails
        .iter()
        .find(|m| m.subject().starts_with("Fixed:"))
        .expect("the follow-up");
    assert_eq!(fixed.recipients, ["bob@example.com"]);
    assert_eq!(
        fixed.subject(),
        "Fixed: the error you ran into while on the checkout page"
    );
    let (plain, _) = fixed.parts();
    assert!(plain.contains("It is fixed now"), "{plain}");
    // Saying the fix is live again sends nothing more.
    let again: Value = client()
        .post(format!("{}/api/v1/issues/{issue_id}/fix-live", server.base))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(again["queued"].is_null(), "{again}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_urls_stay_inert_and_settings_are_checked() {
    let mail = common::with_smtp(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let admin = server.token("root@example.com", true).await;
    let name = "Eve <script>alert(1)</script>\r\nBcc: victim@example.com";
    let url = "https://shop.example/<img src=x onerror=alert(2)>?q=%0d%0aX-Injected:%201";
    ingest(
        server,
        &crash(
            "shop::evil::run",
            "eve@example.com",
            name,
            url,
            "shop@1.0.0",
        ),
    )
    .await;
    let issue_id = issue_of(server, &member, "shop::evil::run").await;

    // A template with a placeholder that does not exist is refused, naming it.
    let bad = write_to(
        server,
        &member,
        issue_id,
        json!({"users": "all", "text": "Hi {nmae}"}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("{nmae}"));

    let sent = write_to(
        server,
        &member,
        issue_id,
        json!({"users": "all", "subject": "About {what}, {name}"}),
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        mails[0].recipients,
        ["eve@example.com"],
        "no injected recipient"
    );
    let subject = mails[0].subject();
    assert!(
        !subject.contains('\n') && !subject.contains('\r'),
        "{subject:?}"
    );
    let parsed = mailparse::parse_mail(&mails[0].raw).unwrap();
    let names: Vec<String> = parsed
        .headers
        .iter()
        .map(|h| h.get_key().to_lowercase())
        .collect();
    assert!(
        !names.iter().any(|n| n == "bcc" || n == "x-injected"),
        "{names:?}"
    );
    let (plain, html) = mails[0].parts();
    assert!(
        plain.contains("Hi Eve <script>"),
        "plain text is plain: {plain}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("<img src=x"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;"), "{html}");

    // The outreach page escapes them too.
    let cookie = common::sign_in(server, "member@example.com", "correct horse battery").await;
    let (_, page) = common::page(
        server,
        &cookie,
        &format!("/projects/{}/issues/{issue_id}/outreach", server.project_id),
    )
    .await;
    assert!(!page.contains("<script>alert(1)") && page.contains("&lt;script&gt;"));

    // Admins set the sender and reply-to, and can turn outreach off.
    let settings_url = format!(
        "{}/api/v1/projects/{}/outreach",
        server.base, server.project_id
    );
    let mut settings: Value = api_json(
        server,
        &admin,
        &format!("/api/v1/projects/{}/outreach", server.project_id),
    )
    .await;
    assert_eq!(settings["weekly_limit"], 2);
    settings["from"] = json!("not an address\r\nBcc: x@example.com");
    let refused = put_settings(&settings_url, &admin, &settings).await;
    assert_eq!(refused, StatusCode::BAD_REQUEST);
    settings["from"] = json!("Shop <help@shop.example>");
    settings["reply_to"] = json!("owner@shop.example");
    settings["enabled"] = json!(false);
    let members_may_not = put_settings(&settings_url, &member, &settings).await;
    assert_eq!(members_may_not, StatusCode::FORBIDDEN);
    let saved = put_settings(&settings_url, &admin, &settings).await;
    assert_eq!(saved, StatusCode::OK);
    let off = write_to(server, &member, issue_id, json!({"users": "all"})).await;
    assert_eq!(off.status(), StatusCode::CONFLICT);
    assert!(off.text().await.unwrap().contains("outreach is off"));

    // Back on: a new user's message comes from the project's sender, replies to the owner.
    settings["enabled"] = json!(true);
    let saved = put_settings(&settings_url, &admin, &settings).await;
    assert_eq!(saved, StatusCode::OK);
    ingest(
        server,
        &crash(
            "shop::evil::run",
            "zoe@example.com",
            "Zoe",
            "https://shop.example/a",
            "shop@1.0.0",
        ),
    )
    .await;
    let sent: Value = write_to_all(server, &member, issue_id).await;
    assert_eq!(sent["queued"].as_array().unwrap().len(), 1, "{sent}");
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    let raw = String::from_utf8_lossy(&mails[1].raw);
    assert!(raw.contains("From: Shop <help@shop.example>"), "{raw}");
    assert!(raw.contains("Reply-To: owner@shop.example"), "{raw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_preview_and_send_from_the_issue_page() {
    let mail = common::with_smtp(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    ingest(
        server,
        &crash(
            "shop::checkout::pay",
            "jane@example.com",
            "Jane Doe",
            "https://shop.example/checkout?bundle=team",
            "shop@1.0.0",
        ),
    )
    .await;
    let mut anonymous = panic_event("shop::checkout::pay", None);
    anonymous["user"] = json!({"id": "guest-7"});
    ingest(server, &anonymous).await;
    let cookie = common::sign_in(server, "member@example.com", "correct horse battery").await;
    let path = format!("/projects/{}/issues", server.project_id);
    let issue_id = common::latest_issue_id(server, &member).await;
    let page_path = format!("{path}/{issue_id}/outreach");
    let (_, page) = common::page(server, &cookie, &page_path).await;
    assert!(page.contains("2 users, 1 can be written to now"), "{page}");
    assert!(
        page.contains("no email address"),
        "users without email are listed, not contactable"
    );
    let csrf = common::csrf_in(&page);
    let key = "id:jane@example.com";
    assert!(
        page.contains(&format!("value=\"{key}\"")),
        "the checkbox of Jane: {page}"
    );
    let post = |action: &'static str| {
        let (cookie, csrf, url) = (
            cookie.clone(),
            csrf.clone(),
            format!("{}{page_path}", server.base),
        );
        async move {
            client()
                .post(url)
                .header("cookie", cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("user", key),
                    ("subject", "Sorry, {name}"),
                    ("text", "Hi {name}, you were on {what} {when}."),
                    ("action", action),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let preview = post("preview").await;
    assert!(preview.contains("Sorry, Jane Doe"), "{preview}");
    assert!(preview.contains("Hi Jane Doe, you were on /checkout earlier today at"));
    assert!(smtp.messages().is_empty(), "a preview sends nothing");
    let sent = post("send").await;
    assert!(sent.contains("1 message(s) queued."), "{sent}");
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(mails[0].subject(), "Sorry, Jane Doe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_collectors_writing_at_once_keep_the_weekly_most() {
    for db in common::databases().await {
        let first = TestServer::start(&db, &[]).await;
        let second = TestServer::join(&db, &[], &first).await;
        let member = first.token("member@example.com", false).await;
        first.add_member("member@example.com").await;
        let store = &first.state.store;
        let project = store.project(first.project_id).await.unwrap().unwrap();
        let mut settings = mayday_collector::store::Store::outreach_settings(&project);
        settings.weekly_limit = 1;
        outreach::save_settings(
            store,
            mayday_collector::audit::Actor::Cli,
            project.id,
            settings,
        )
        .await
        .unwrap();
        // Jane hit four issues; four people write to her about each at the same moment.
        let mut issues = Vec::new();
        for n in 0..4 {
            let function = format!("shop::step{n}::run");
            ingest(
                &first,
                &crash(
                    &function,
                    "jane@example.com",
                    "Jane",
                    "https://shop.example/",
                    "shop@1.0.0",
                ),
            )
            .await;
            issues.push(issue_of(&first, &member, &function).await);
        }
        let mut sends = Vec::new();
        for (i, issue_id) in issues.iter().enumerate() {
            let base = if i % 2 == 0 {
                &first.base
            } else {
                &second.base
            };
            let (url, token) = (
                format!("{base}/api/v1/issues/{issue_id}/outreach"),
                member.clone(),
            );
            sends.push(tokio::spawn(async move {
                let answer: Value = client()
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"users": "all"}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                answer["queued"].as_array().unwrap().len()
            }));
        }
        let mut queued = 0;
        for send in sends {
            queued += send.await.unwrap();
        }
        assert_eq!(queued, 1, "{}: one message a week", db.kind);
    }
}

/// The rules hold whatever form an address comes in: after `victim2@example.com`
/// unsubscribes, `Victim Two <victim2@example.com>` and `<VICTIM2@example.com>` are the
/// same person; the weekly most and "once per issue" count every form as one address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_keys_on_the_address_whatever_its_form() {
    let mail = common::with_smtp(&[]).await;
    let (smtp, server) = (&mail.smtp, &mail.server);
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let crash_as = |function: &str, email: &str| {
        let mut event = crash(
            function,
            email,
            "Victim Two",
            "https://shop.example/x",
            "shop@1.0.0",
        );
        // Each form its own user, as separate sign-ins would be.
        event["user"]["id"] = json!(format!("{function}:{email}"));
        event
    };
    ingest(server, &crash_as("shop::pay::run", "victim2@example.com")).await;
    let first = issue_of(server, &member, "shop::pay::run").await;
    let sent: Value = write_to_all(server, &member, first).await;
    assert_eq!(sent["queued"].as_array().unwrap().len(), 1, "{sent}");
    smtp.wait_for(1, Duration::from_secs(20)).await;
    let (plain, _) = smtp.messages()[0].parts();
    let link = plain
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/unsubscribe/", server.base)))
        .unwrap()
        .to_owned();
    assert_eq!(
        client().post(&link).send().await.unwrap().status(),
        StatusCode::OK
    );

    for form in ["Victim Two <victim2@example.com>", "<VICTIM2@example.com>"] {
        ingest(server, &crash_as("shop::cart::add", form)).await;
    }
    let cart = issue_of(server, &member, "shop::cart::add").await;
    let cart_users = users(server, &member, cart).await;
    assert_eq!(cart_users.len(), 2);
    assert!(
        cart_users
            .iter()
            .all(|u| u["not_contactable"] == "do_not_contact"),
        "{cart_users:?}"
    );
    let refused: Value = write_to_all(server, &member, cart).await;
    assert!(
        refused["queued"].as_array().unwrap().is_empty(),
        "{refused}"
    );

    // Once per issue and at most two a week, however the address is written.
    for (function, form) in [
        ("shop::search::run", "jane@example.com"),
        ("shop::search::run", "Jane Doe <Jane@Example.com>"),
        ("shop::account::save", "<jane@EXAMPLE.com>"),
        ("shop::wishlist::add", "Jane <jane@example.com>"),
    ] {
        ingest(server, &crash_as(function, form)).await;
    }
    let search = issue_of(server, &member, "shop::search::run").await;
    let once: Value = write_to_all(server, &member, search).await;
    assert_eq!(once["queued"].as_array().unwrap().len(), 1, "{once}");
    assert!(
        users(server, &member, search)
            .await
            .iter()
            .all(|u| !u["contacted_at"].is_null()),
        "both forms count as written to"
    );
    let account = issue_of(server, &member, "shop::account::save").await;
    let second: Value = write_to_all(server, &member, account).await;
    assert_eq!(second["queued"].as_array().unwrap().len(), 1, "{second}");
    let wishlist = issue_of(server, &member, "shop::wishlist::add").await;
    assert_eq!(
        users(server, &member, wishlist).await[0]["not_contactable"],
        "weekly_limit"
    );
    assert_eq!(common::notifications_settled(server).await, 3);
    let delivered: Vec<Vec<String>> = smtp.messages().into_iter().map(|m| m.recipients).collect();
    assert_eq!(
        delivered,
        [
            ["victim2@example.com"],
            ["jane@example.com"],
            ["jane@example.com"]
        ],
        "three messages, each to the plain address"
    );
}
