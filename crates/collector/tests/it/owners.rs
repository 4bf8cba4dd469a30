//! Owners and assignees: ownership rules of each kind assign new issues (and, on
//! demand, open ones), the rule shown; assignment over the API with an email to the
//! assignee when someone else assigned them; the searches for it; an alert rule that
//! emails the assignee; ticket templates and linked tickets; who may do what.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, TestServer};

async fn send(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let answer = common::client()
        .request(method, format!("{}{path}", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// A crash with one in-app frame in `file` of `module`, at `url`, tagged `tenant`.
fn crash(file: &str, module: &str, url: &str, tenant: &str) -> Value {
    let mut event = common::panic_event(&format!("{module}::run"), Some("42"));
    event["exception"]["values"][0]["type"] = json!(format!("Error in {file}"));
    event["exception"]["values"][0]["stacktrace"]["frames"][1]["filename"] = json!(file);
    event["exception"]["values"][0]["stacktrace"]["frames"][1]["module"] = json!(module);
    event["request"] = json!({"method": "GET", "url": url});
    event["tags"] = json!({"tenant": tenant});
    event
}

async fn issue_titled(server: &TestServer, token: &str, title: &str) -> Value {
    let list = common::api_json(
        server,
        token,
        &format!("/api/v1/projects/{}/issues?status=all", server.project_id),
    )
    .await;
    list["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().is_some_and(|t| t.starts_with(title)))
        .cloned()
        .unwrap_or_else(|| panic!("no issue {title}: {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_rules_assign_new_issues_and_the_assignee_is_told() {
    let mail = common::with_mail(&[]).await;
    let server = &mail.server;
    let admin = server.token("admin@example.com", true).await;
    let jane = server.token("jane@example.com", false).await;
    server.token("omar@example.com", false).await;
    server.add_member("jane@example.com").await;
    server.add_member("omar@example.com").await;
    let p = server.project_id;
    let ownership = format!("/api/v1/projects/{p}/ownership");

    // Mistakes name the line; owners must be members.
    for (rules, said) in [
        (
            "path:src/* jane@example.com\nsrc/* omar@example.com",
            "line 2",
        ),
        ("color:red jane@example.com", "color: is not a kind of rule"),
        (
            "path:src/* stranger@example.com",
            "stranger@example.com is not a member",
        ),
    ] {
        let (status, body) = send(
            server,
            &admin,
            reqwest::Method::PUT,
            &ownership,
            json!({"rules": rules}),
        )
        .await;
        assert_eq!(status, 400, "{rules}: {body}");
        assert!(body.to_string().contains(said), "{rules}: {body}");
    }
    // A member may not change them.
    let (status, _) = send(
        server,
        &jane,
        reqwest::Method::PUT,
        &ownership,
        json!({"rules": ""}),
    )
    .await;
    assert_eq!(status, 403);

    // An issue from before the rules, for "apply to open issues".
    common::ingest(
        server,
        &crash(
            "src/legacy/old.rs",
            "shop::legacy",
            "https://shop.example.com/old",
            "none",
        ),
    )
    .await;

    let rules = "# billing first\npath:src/billing/* jane@example.com\nmodule:shop::checkout::* omar@example.com\nurl:*/account* jane@example.com\ntag:tenant=acme omar@example.com\nurl:*/old* omar@example.com";
    let (status, body) = send(
        server,
        &admin,
        reqwest::Method::PUT,
        &ownership,
        json!({"rules": rules}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let read = common::api_json(server, &admin, &ownership).await;
    assert_eq!(read["rules"], rules);

    // One new issue per kind of rule; the key cache holds the project for 5 s at most.
    tokio::time::sleep(mayday_collector::store::KEY_CACHE_TTL).await;
    for (file, module, url, tenant) in [
        (
            "src/billing/invoice.rs",
            "shop::billing",
            "https://shop.example.com/pay",
            "x",
        ),
        (
            "src/shop/cart.rs",
            "shop::checkout::cart",
            "https://shop.example.com/cart",
            "x",
        ),
        (
            "src/shop/profile.rs",
            "shop::profile",
            "https://shop.example.com/account/edit",
            "x",
        ),
        (
            "src/shop/search.rs",
            "shop::search",
            "https://shop.example.com/search",
            "acme",
        ),
        (
            "src/shop/about.rs",
            "shop::about",
            "https://shop.example.com/about",
            "x",
        ),
    ] {
        common::ingest(server, &crash(file, module, url, tenant)).await;
    }
    for (file, assignee, rule) in [
        (
            "src/billing/invoice.rs",
            json!("jane@example.com"),
            json!("path:src/billing/* jane@example.com"),
        ),
        (
            "src/shop/cart.rs",
            json!("omar@example.com"),
            json!("module:shop::checkout::* omar@example.com"),
        ),
        (
            "src/shop/profile.rs",
            json!("jane@example.com"),
            json!("url:*/account* jane@example.com"),
        ),
        (
            "src/shop/search.rs",
            json!("omar@example.com"),
            json!("tag:tenant=acme omar@example.com"),
        ),
        ("src/shop/about.rs", Value::Null, Value::Null),
    ] {
        let issue = issue_titled(server, &admin, &format!("Error in {file}")).await;
        assert_eq!(issue["assignee"], assignee, "{file}: {issue}");
        assert_eq!(issue["owner_rule"], rule, "{file}: {issue}");
    }
    // The rule shows on the issue page.
    let billing = issue_titled(server, &admin, "Error in src/billing/invoice.rs").await;
    let cookie = common::sign_in(server, "jane@example.com", "correct horse battery").await;
    let (_, html) = common::page(
        server,
        &cookie,
        &format!("/projects/{p}/issues/{}", billing["id"]),
    )
    .await;
    assert!(
        html.contains("By the ownership rule"),
        "the rule on the page"
    );
    assert!(html.contains("path:src/billing/* jane@example.com"));

    // The issue from before the rules: assigned on demand.
    let old = issue_titled(server, &admin, "Error in src/legacy/old.rs").await;
    assert_eq!(old["assignee"], Value::Null);
    let (status, applied) = send(
        server,
        &admin,
        reqwest::Method::POST,
        &format!("{ownership}/apply"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{applied}");
    assert!(applied["assigned"].as_u64().unwrap() >= 1, "{applied}");
    let old = issue_titled(server, &admin, "Error in src/legacy/old.rs").await;
    assert_eq!(old["assignee"], "omar@example.com");

    // Searches: mine, someone's, nobody's.
    let search = |query: &str| {
        let query = url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>();
        format!("/api/v1/projects/{p}/issues?status=all&query={query}")
    };
    let mine = common::api_json(server, &jane, &search("assigned:me")).await;
    let titles: Vec<&str> = mine["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles
            .iter()
            .all(|t| t.contains("billing") || t.contains("profile")),
        "{titles:?}"
    );
    let omars = common::api_json(server, &jane, &search("assigned:omar@example.com")).await;
    assert_eq!(omars["issues"].as_array().unwrap().len(), 3);
    let nobody = common::api_json(server, &jane, &search("is:unassigned")).await;
    assert_eq!(nobody["issues"].as_array().unwrap().len(), 1);

    // Jane assigns the unowned issue to Omar: Omar gets an email; Jane taking one
    // herself sends nothing.
    let about = issue_titled(server, &admin, "Error in src/shop/about.rs").await;
    let path = format!("/api/v1/issues/{}", about["id"]);
    let (status, body) = send(
        server,
        &jane,
        reqwest::Method::PATCH,
        &path,
        json!({"assignee": "stranger@example.com"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("not a member"), "{body}");
    let before = mail.smtp.messages().len();
    let (status, body) = send(
        server,
        &jane,
        reqwest::Method::PATCH,
        &path,
        json!({"assignee": "omar@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee"], "omar@example.com");
    let mails = mail
        .smtp
        .wait_for(before + 1, Duration::from_secs(20))
        .await;
    let told = mails.last().unwrap();
    assert_eq!(told.recipients, ["omar@example.com"]);
    assert!(
        told.subject().contains("assigned to you"),
        "{}",
        told.subject()
    );
    let (status, _) = send(
        server,
        &jane,
        reqwest::Method::PATCH,
        &path,
        json!({"assignee": "jane@example.com"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = send(
        server,
        &jane,
        reqwest::Method::PATCH,
        &path,
        json!({"assignee": null}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["assignee"], Value::Null);
    common::notifications_settled(server).await;
    let to_jane = mail
        .smtp
        .messages()
        .iter()
        .filter(|m| m.recipients == ["jane@example.com"] && m.subject().contains("assigned to you"))
        .count();
    assert_eq!(to_jane, 0, "nobody is told of what they did themselves");

    let audit = common::api_json(server, &admin, &format!("/api/v1/projects/{p}/audit")).await;
    let text = audit.to_string();
    assert!(text.contains("ownership_changed"), "{audit}");
    assert!(text.contains("issue_assigned"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_rule_emails_the_assignee() {
    let mail = common::with_mail(&[]).await;
    let server = &mail.server;
    let admin = server.token("admin@example.com", true).await;
    server.token("jane@example.com", false).await;
    server.add_member("jane@example.com").await;
    let p = server.project_id;
    // Only the assignee is written to: the Default rule goes.
    for rule in server.state.store.alert_rules(p).await.unwrap() {
        server.state.store.remove_alert_rule(rule.id).await.unwrap();
    }
    let (status, body) = send(
        server,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/projects/{p}/alert-rules"),
        json!({"name": "owner", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "email", "to": "assignee"}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(
        server,
        &admin,
        reqwest::Method::PUT,
        &format!("/api/v1/projects/{p}/ownership"),
        json!({"rules": "path:src/billing/* jane@example.com"}),
    )
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep(mayday_collector::store::KEY_CACHE_TTL).await;
    common::ingest(
        server,
        &crash(
            "src/billing/invoice.rs",
            "shop::billing",
            "https://shop.example.com/pay",
            "x",
        ),
    )
    .await;
    let mails = mail.smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        mails[0].recipients,
        ["jane@example.com"],
        "{}",
        mails[0].subject()
    );
    // Nobody assigned: the recipients instead.
    common::ingest(
        server,
        &crash(
            "src/shop/other.rs",
            "shop::other",
            "https://shop.example.com/x",
            "x",
        ),
    )
    .await;
    let mails = mail.smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(mails[1].recipients, ["team@shop.example"]);
}

#[tokio::test]
async fn tickets_open_prefilled_and_link_back() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let admin = server.token("admin@example.com", true).await;
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let p = server.project_id;
    let template_path = format!("/api/v1/projects/{p}/ticket-template");
    for (template, said) in [
        ("https://github.com/acme/shop/issues/new", "none of {title}"),
        ("javascript:alert({title})", "is not an http(s) URL"),
    ] {
        let (status, body) = send(
            &server,
            &admin,
            reqwest::Method::PUT,
            &template_path,
            json!({"template": template}),
        )
        .await;
        assert_eq!(status, 400, "{template}");
        assert!(body.to_string().contains(said), "{template}: {body}");
    }
    let (status, _) = send(
        &server,
        &member,
        reqwest::Method::PUT,
        &template_path,
        json!({"template": null}),
    )
    .await;
    assert_eq!(status, 403, "templates are the admins'");
    let template = "https://github.com/acme/shop/issues/new?title={title}&body={body}";
    let (status, _) = send(
        &server,
        &admin,
        reqwest::Method::PUT,
        &template_path,
        json!({"template": template}),
    )
    .await;
    assert_eq!(status, 200);

    let mut event = common::panic_event("shop::checkout::pay", Some("7"));
    event["exception"]["values"][0]["value"] = json!("card & \"declined\"");
    common::ingest(&server, &event).await;
    let issue = common::latest_issue_id(&server, &admin).await;
    let cookie = common::sign_in(&server, "member@example.com", "correct horse battery").await;
    let (_, html) = common::page(&server, &cookie, &format!("/projects/{p}/issues/{issue}")).await;
    let start = html
        .find("https://github.com/acme/shop/issues/new?")
        .expect("a Create ticket link");
    let link = html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let parsed = url::Url::parse(&link).unwrap();
    let pairs: std::collections::HashMap<_, _> = parsed.query_pairs().collect();
    assert!(pairs["title"].contains("card & \"declined\""), "{link}");
    assert!(pairs["body"].contains("Users affected: 1"), "{link}");
    assert!(
        pairs["body"].contains(&format!("/projects/{p}/issues/{issue}")),
        "{link}"
    );

    // A member links the ticket they filed; it is on the issue, in the API.
    let ticket = format!("/api/v1/issues/{issue}/ticket");
    let (status, body) = send(
        &server,
        &member,
        reqwest::Method::PUT,
        &ticket,
        json!({"url": "not a url"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        &server,
        &member,
        reqwest::Method::PUT,
        &ticket,
        json!({"url": "https://github.com/acme/shop/issues/42"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ticket_url"], "https://github.com/acme/shop/issues/42");
    let (_, html) = common::page(&server, &cookie, &format!("/projects/{p}/issues/{issue}")).await;
    assert!(html.contains("href=\"https://github.com/acme/shop/issues/42\""));
}
