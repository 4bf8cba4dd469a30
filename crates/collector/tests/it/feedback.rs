//! Feedback from the people a crash hit: a `user_report` item as `curl` would post it,
//! `@sentry/node`'s `captureFeedback` (the real SDK from npm), and the crash-report
//! dialog's script and form; each lands with its event's issue (API, issue page, issue
//! list, project page), hostile text escaped; bad input refused by field; limited per
//! client address.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, TestServer};

const HOSTILE: &str = "<script>alert(1)</script> & \"quotes\"";

/// `@sentry/node`, installed under the target directory on first use.
async fn sentry_node() -> PathBuf {
    static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = INSTALLING.lock().await;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node-sentry-node");
    if !dir.join("node_modules/@sentry/node/package.json").is_file() {
        let status = tokio::process::Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("@sentry/node@9")
            .status()
            .await
            .expect("npm runs (apt-get install npm)");
        assert!(status.success(), "installing @sentry/node from npm failed");
    }
    dir
}

async fn feedback_of(server: &TestServer, token: &str, path: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = common::api_json(server, token, path).await;
        let items = listed["feedback"].as_array().cloned().unwrap_or_default();
        if items.len() >= count {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "{count} feedback at {path}: {listed:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An envelope of one item of `ty`.
fn envelope_of(ty: &str, payload: &Value) -> Vec<u8> {
    let payload = serde_json::to_vec(payload).unwrap();
    let mut out =
        format!("{{}}\n{{\"type\":\"{ty}\",\"length\":{}}}\n", payload.len()).into_bytes();
    out.extend_from_slice(&payload);
    out.push(b'\n');
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_report_joins_its_issue_escaped_everywhere() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;
    let event = common::panic_event("shop::checkout::apply_coupon", Some("jane"));
    let event_id = event["event_id"].as_str().unwrap().to_owned();
    common::ingest(&server, &event).await;
    let issue = common::latest_issue_id(&server, &token).await;

    // As `curl --data-binary @report` would post it.
    let client = common::client();
    let post = |body: Vec<u8>| {
        client
            .post(server.envelope_url())
            .header("x-sentry-auth", server.auth())
            .body(body)
            .send()
    };
    let answer = post(envelope_of(
        "user_report",
        &json!({"event_id": event_id, "name": HOSTILE, "email": "jane@example.com",
                "comments": format!("I was applying a coupon {HOSTILE}")}),
    ))
    .await
    .unwrap();
    assert_eq!(answer.status(), 200);

    // Refusals name the field; nothing of the envelope is stored.
    for (report, said) in [
        (json!({"event_id": event_id, "comments": ""}), "no message"),
        (
            json!({"event_id": "nope", "comments": "hi"}),
            "event_id \\\"nope\\\"",
        ),
        (
            json!({"event_id": event_id, "email": "jane at home", "comments": "hi"}),
            "email",
        ),
    ] {
        let answer = post(envelope_of("user_report", &report)).await.unwrap();
        assert_eq!(answer.status(), 400, "{report}");
        let text = answer.text().await.unwrap();
        assert!(text.contains(said), "{text}");
    }

    let items = feedback_of(
        &server,
        &token,
        &format!("/api/v1/issues/{issue}/feedback"),
        1,
    )
    .await;
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["name"], HOSTILE);
    assert_eq!(items[0]["source"], "user_report");
    assert_eq!(items[0]["event_id"], event_id.as_str());
    let project = feedback_of(
        &server,
        &token,
        &format!("/api/v1/projects/{}/feedback", server.project_id),
        1,
    )
    .await;
    assert_eq!(project[0]["issue_id"], issue);

    let cookie = common::sign_in(&server, "dev@example.com", "correct horse battery").await;
    let base = format!("/projects/{}", server.project_id);
    for path in [format!("{base}/issues/{issue}"), format!("{base}/feedback")] {
        let (status, page) = common::page(&server, &cookie, &path).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("I was applying a coupon &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;")
                || page.contains("I was applying a coupon &lt;script&gt;alert(1)&lt;/script&gt; &amp; \"quotes\""),
            "{path} quotes the words, escaped"
        );
        assert!(!page.contains(HOSTILE), "{path} never writes them raw");
    }
    let (_, issue_page) = common::page(&server, &cookie, &format!("{base}/issues/{issue}")).await;
    assert!(issue_page.contains("What they said"));
    assert!(issue_page.contains(&format!("/events/{event_id}")));
    let (_, list) = common::page(&server, &cookie, &format!("{base}/issues")).await;
    assert!(
        list.contains(&format!("{issue}#feedback")),
        "the issue list marks the issue"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentry_node_capture_feedback_is_stored_with_its_event() {
    let modules = sentry_node().await;
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;
    let script = r#"
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.env.DSN, defaultIntegrations: false });
const eventId = Sentry.captureException(new Error("coupon BLACKFRIDAY is not in the table"));
Sentry.captureFeedback({
  message: "I was paying for the team plan",
  name: "Jane Doe",
  email: "jane@example.com",
  associatedEventId: eventId,
});
Sentry.flush(10000).then(() => { console.log(eventId); });
"#;
    let output = tokio::process::Command::new("node")
        .arg("-e")
        .arg(script)
        .env("NODE_PATH", modules.join("node_modules"))
        .env("DSN", &server.dsn)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let event_id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let items = feedback_of(
        &server,
        &token,
        &format!("/api/v1/projects/{}/feedback", server.project_id),
        1,
    )
    .await;
    assert_eq!(items[0]["message"], "I was paying for the team plan");
    assert_eq!(items[0]["name"], "Jane Doe");
    assert_eq!(items[0]["email"], "jane@example.com");
    assert_eq!(items[0]["source"], "feedback_event");
    assert_eq!(items[0]["event_id"], event_id.as_str());
    let issue = items[0]["issue_id"].as_i64().expect("its event's issue");
    let of_issue = feedback_of(
        &server,
        &token,
        &format!("/api/v1/issues/{issue}/feedback"),
        1,
    )
    .await;
    assert_eq!(of_issue.len(), 1);
    // The feedback is not an issue of its own.
    let issues = common::api_json(
        &server,
        &token,
        &format!("/api/v1/projects/{}/issues?status=all", server.project_id),
    )
    .await;
    assert_eq!(issues["issues"].as_array().unwrap().len(), 1, "{issues:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_dialog_serves_its_script_and_stores_the_form() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;
    let event = common::panic_event("shop::checkout::apply_coupon", Some("jane"));
    let event_id = event["event_id"].as_str().unwrap().to_owned();
    common::ingest(&server, &event).await;
    let client = common::client();
    let url = format!("{}/api/embed/error-page/", server.base);
    let query = [("dsn", server.dsn.as_str()), ("eventId", event_id.as_str())];

    let script = client
        .get(&url)
        .query(&query)
        .query(&[("name", HOSTILE)])
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let text = script.text().await.unwrap();
    assert!(
        text.contains("It looks like default is having issues."),
        "the project's words"
    );
    assert!(text.contains("textContent"));
    assert!(!text.contains("MAYDAY_DIALOG"), "the options are filled in");
    // The prefilled name is JSON in the script, never closing it.
    assert!(text.contains(r#"\"quotes\""#), "{text}");

    for (query, status) in [
        (vec![("eventId", event_id.as_str())], 400),
        (
            vec![("dsn", "not a dsn"), ("eventId", event_id.as_str())],
            400,
        ),
        (vec![("dsn", server.dsn.as_str())], 400),
    ] {
        let answer = client.get(&url).query(&query).send().await.unwrap();
        assert_eq!(answer.status(), status, "{query:?}");
        let said = answer.text().await.unwrap();
        assert!(said.contains("dsn") || said.contains("eventId"), "{said}");
    }

    let form = [
        ("name", "Jane Doe"),
        ("email", "jane@example.com"),
        ("comments", "It broke at checkout"),
    ];
    let answer = client
        .post(&url)
        .query(&query)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let empty = client
        .post(&url)
        .query(&query)
        .form(&[("name", "Jane"), ("comments", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    assert!(empty.text().await.unwrap().contains("no message"));
    let items = feedback_of(
        &server,
        &token,
        &format!("/api/v1/projects/{}/feedback", server.project_id),
        1,
    )
    .await;
    assert_eq!(items[0]["source"], "dialog");
    assert_eq!(items[0]["message"], "It broke at checkout");

    // From a browser on another site, CORS lets the dialog post.
    let cors = client
        .post(&url)
        .query(&query)
        .header("origin", "https://shop.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cors.status(), 200);
    assert_eq!(cors.headers()["access-control-allow-origin"], "*");

    // One client address writes a few times a minute at most.
    let mut limited = None;
    for n in 0..12 {
        let answer = client
            .post(&url)
            .query(&query)
            .form(&form)
            .send()
            .await
            .unwrap();
        if answer.status() == 429 {
            assert!(answer.headers().contains_key("retry-after"));
            limited = Some(n);
            break;
        }
        assert_eq!(answer.status(), 200);
    }
    // The refused empty form counted too: 3 before, 7 more.
    assert_eq!(limited, Some(7), "10 a minute per client address");
    let items = feedback_of(
        &server,
        &token,
        &format!("/api/v1/projects/{}/feedback", server.project_id),
        9,
    )
    .await;
    assert_eq!(items.len(), 9);
}

/// The demo app's error page in Chromium: the crash, the form, the words on the issue
/// page; the page checked with axe-core at a phone's width and a laptop's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_writes_from_the_demo_apps_error_page() {
    use crate::browser::{axe_script, axe_violations, browser, screenshot, submit};
    use fantoccini::Locator;

    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("dev@example.com", true).await;
    let (reporter, app_url) = common::demo_app(&server, "production").await;
    let (_driver, client) = browser().await;
    let axe = axe_script().await;
    for width in [390, 1280] {
        client.set_window_size(width, 900).await.unwrap();
        client.goto(&format!("{app_url}/panic")).await.unwrap();
        let source = client.source().await.unwrap();
        assert!(source.contains("Something went wrong"), "{source}");
        assert!(source.contains("What were you doing?"));
        let violations = axe_violations(&client, &axe).await;
        assert!(
            violations.is_empty(),
            "error page at {width} px: {violations:?}"
        );
        let wide: bool = client
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth",
                vec![],
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap();
        assert!(!wide, "the error page fits {width} px");
        screenshot(&client, &format!("demo-error-page-{width}")).await;
    }
    let reference = client
        .find(Locator::Css("input[name=event_id]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .expect("the event id in the form");
    client
        .find(Locator::Css("textarea[name=message]"))
        .await
        .unwrap()
        .send_keys(&format!("I was applying a coupon {HOSTILE}"))
        .await
        .unwrap();
    crate::browser::fill(&client, "name", "Jane Doe").await;
    crate::browser::fill(&client, "email", "jane@example.com").await;
    submit(&client, "Send").await;
    let thanks = client.source().await.unwrap();
    assert!(thanks.contains("your words reached the team"), "{thanks}");
    screenshot(&client, "demo-error-page-sent").await;
    assert!(reporter.flush(Duration::from_secs(10)).await);

    let items = feedback_of(
        &server,
        &token,
        &format!("/api/v1/projects/{}/feedback", server.project_id),
        1,
    )
    .await;
    assert_eq!(items[0]["event_id"], reference.as_str());
    assert_eq!(items[0]["name"], "Jane Doe");
    assert_eq!(items[0]["source"], "user_report");
    let issue = items[0]["issue_id"].as_i64().expect("the crash's issue");
    let cookie = common::sign_in(&server, "dev@example.com", "correct horse battery").await;
    let (_, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{issue}", server.project_id),
    )
    .await;
    assert!(page.contains("What they said"));
    assert!(page.contains("I was applying a coupon &lt;script&gt;"));
}

/// The team hears of it: an email naming the writer, quoting their words (escaped in
/// the HTML part, the subject one header line), about the issue of their event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_is_told_what_they_wrote() {
    let mail = common::with_mail(&[]).await;
    let server = &mail.server;
    let event = common::panic_event("shop::checkout::apply_coupon", Some("jane"));
    let event_id = event["event_id"].as_str().unwrap().to_owned();
    common::ingest(server, &event).await;
    let first = mail.smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(first.len(), 1, "the new issue's mail");
    let answer = common::client()
        .post(server.envelope_url())
        .header("x-sentry-auth", server.auth())
        .body(envelope_of(
            "user_report",
            &json!({"event_id": event_id, "name": "Jane\r\nBcc: evil@example.com",
                    "email": "jane@example.com", "comments": format!("It broke {HOSTILE}")}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let mails = mail.smtp.wait_for(2, Duration::from_secs(20)).await;
    let told = &mails[1];
    assert_eq!(told.recipients, ["team@shop.example"]);
    let subject = told.subject();
    assert!(subject.contains("Jane"), "names the writer: {subject}");
    assert!(subject.contains("wrote about"), "{subject}");
    assert!(
        !subject.contains('\n') && !subject.contains('\r'),
        "{subject:?}"
    );
    let (text, html) = told.parts();
    assert!(text.contains(&format!("> It broke {HOSTILE}")), "{text}");
    assert!(html.contains("It broke &lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"));

    // Writing back: the compose page shows their words, and the default message
    // quotes them.
    let token = server.token("dev@example.com", true).await;
    let issue = common::latest_issue_id(server, &token).await;
    let cookie = common::sign_in(server, "dev@example.com", "correct horse battery").await;
    let (_, compose) = common::page(
        server,
        &cookie,
        &format!("/projects/{}/issues/{issue}/outreach", server.project_id),
    )
    .await;
    assert!(
        compose.contains("They wrote: <q>It broke &lt;script&gt;"),
        "the compose page quotes them"
    );
    let sent = common::client()
        .post(format!("{}/api/v1/issues/{issue}/outreach", server.base))
        .bearer_auth(&token)
        .json(&json!({"users": "all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let sent: Value = sent.json().await.unwrap();
    let letter = sent["queued"][0]["text"].as_str().unwrap_or_default();
    assert!(
        letter.contains(&format!("You wrote: \u{201c}It broke {HOSTILE}\u{201d}")),
        "{sent:#}"
    );
}
