//! The role matrix: every page and API endpoint, asked by anonymous, a non-member, a
//! member, a project admin and an instance admin, on SQLite and PostgreSQL. Each answer
//! is one of: done, sent to sign in, not found (may not see it), forbidden (sees it but
//! may not change it).

use crate::common;

use crate::common::{TestServer, client, ingest, panic_event, sign_in};
use mayday_collector::store::ProjectRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    Anonymous,
    NonMember,
    Member,
    ProjectAdmin,
    InstanceAdmin,
}

const PERSONAS: [Persona; 5] = [
    Persona::Anonymous,
    Persona::NonMember,
    Persona::Member,
    Persona::ProjectAdmin,
    Persona::InstanceAdmin,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Done,
    SignIn,
    NotFound,
    Forbidden,
}

impl Answer {
    fn of(response: &reqwest::Response) -> Answer {
        let status = response.status();
        let to_login = response
            .headers()
            .get("location")
            .is_some_and(|l| l.to_str().unwrap_or_default().starts_with("/login"));
        match status {
            StatusCode::UNAUTHORIZED => Answer::SignIn,
            StatusCode::SEE_OTHER if to_login => Answer::SignIn,
            StatusCode::NOT_FOUND => Answer::NotFound,
            StatusCode::FORBIDDEN => Answer::Forbidden,
            s if s.is_success() || s.is_redirection() => Answer::Done,
            other => panic!("unexpected {other} from {}", response.url()),
        }
    }
}

/// Who may: everyone signed in who sees the project, or project admins only, or
/// instance admins only, or anyone signed in.
#[derive(Debug, Clone, Copy)]
enum Rule {
    SignedIn,
    Sees,
    ManagesProject,
    ManagesInstance,
}

impl Rule {
    fn expected(self, persona: Persona) -> Answer {
        use Persona::*;
        match (self, persona) {
            (_, Anonymous) => Answer::SignIn,
            (Rule::SignedIn, _) => Answer::Done,
            (_, InstanceAdmin) => Answer::Done,
            (Rule::ManagesInstance, _) => Answer::NotFound,
            (_, NonMember) => Answer::NotFound,
            (Rule::Sees, _) => Answer::Done,
            (Rule::ManagesProject, Member) => Answer::Forbidden,
            (Rule::ManagesProject, ProjectAdmin) => Answer::Done,
        }
    }
}

/// A persona's credentials: session cookie and CSRF token, API token.
#[derive(Default)]
struct Credentials {
    cookie: Option<String>,
    csrf: String,
    token: Option<String>,
}

async fn credentials(server: &TestServer, persona: Persona) -> Credentials {
    let (email, admin, role) = match persona {
        Persona::Anonymous => return Credentials::default(),
        Persona::NonMember => ("outsider@example.com", false, None),
        Persona::Member => ("member@example.com", false, Some(ProjectRole::Member)),
        Persona::ProjectAdmin => ("lead@example.com", false, Some(ProjectRole::Admin)),
        Persona::InstanceAdmin => ("root@example.com", true, None),
    };
    let token = server.token(email, admin).await;
    if let Some(role) = role {
        let account = server.state.store.account_by_email(email).await.unwrap();
        server
            .state
            .store
            .add_member(server.project_id, account.id, role)
            .await
            .unwrap();
    }
    let cookie = sign_in(server, email, "correct horse battery").await;
    let (_, home) = common::page(server, &cookie, "/").await;
    let at = home.find("name=\"csrf\" value=\"").expect("a form") + 19;
    let csrf = home[at..].split('"').next().unwrap().to_owned();
    Credentials {
        cookie: Some(cookie),
        csrf,
        token: Some(token),
    }
}

/// One request of the matrix.
struct Case {
    method: Method,
    path: String,
    /// A form (web, with the persona's CSRF token added) or JSON (API).
    body: Body,
    rule: Rule,
}

enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

fn web(method: Method, path: String, rule: Rule) -> Case {
    Case {
        method,
        path,
        body: Body::None,
        rule,
    }
}

fn form(path: String, fields: &[(&'static str, &str)], rule: Rule) -> Case {
    Case {
        method: Method::POST,
        path,
        body: Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()),
        rule,
    }
}

fn api(method: Method, path: String, body: Option<Value>, rule: Rule) -> Case {
    Case {
        method,
        path,
        body: body.map_or(Body::None, Body::Json),
        rule,
    }
}

async fn ask(server: &TestServer, who: &Credentials, case: &Case) -> Answer {
    let mut request =
        client().request(case.method.clone(), format!("{}{}", server.base, case.path));
    let is_api = case.path.starts_with("/api/");
    if is_api {
        if let Some(token) = &who.token {
            request = request.bearer_auth(token);
        }
    } else if let Some(cookie) = &who.cookie {
        request = request.header("cookie", cookie);
    }
    request = match &case.body {
        Body::None => request,
        Body::Json(value) => request.json(value),
        Body::Form(fields) => {
            let mut fields = fields.clone();
            fields.push(("csrf", who.csrf.clone()));
            request.form(&fields)
        }
    };
    Answer::of(&request.send().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_the_rules_say() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &["--allow-private-targets"]).await;
        let mut people = Vec::new();
        for persona in PERSONAS {
            people.push((persona, credentials(&server, persona).await));
        }
        server.token("extra@example.com", false).await;
        let event = panic_event("shop::checkout::pay", Some("7"));
        ingest(&server, &event).await;
        let root = people[4].1.token.clone().unwrap();
        let issue_id = common::latest_issue_id(&server, &root).await;
        let event_id = event["event_id"].as_str().unwrap().to_owned();
        let p = server.project_id;
        let hook = server
            .state
            .store
            .add_webhook(p, "http://127.0.0.1:9/hook", "s")
            .await
            .unwrap();

        let monitor = mayday_collector::monitors::create(
            &server.state.store,
            mayday_collector::audit::Actor::Cli,
            mayday_collector::monitors::MonitorRules::of(&server.state.config),
            p,
            common::uptime_check("Shop", "http://127.0.0.1:9/", 3600),
        )
        .await
        .unwrap();
        let m = monitor.id;
        let rule = server.state.store.alert_rules(p).await.unwrap()[0].id;

        let cases = vec![
            web(Method::GET, "/".into(), Rule::SignedIn),
            web(
                Method::GET,
                format!("/projects/{p}/issues/{issue_id}/outreach"),
                Rule::Sees,
            ),
            form(
                format!("/projects/{p}/issues/{issue_id}/outreach"),
                &[
                    ("action", "preview"),
                    ("subject", "Sorry, {name}"),
                    ("text", "Hi {name}"),
                ],
                Rule::Sees,
            ),
            api(
                Method::POST,
                format!("/api/v1/issues/{issue_id}/outreach"),
                Some(json!({"users": []})),
                Rule::Sees,
            ),
            api(
                Method::POST,
                format!("/api/v1/issues/{issue_id}/fix-follow-up"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/outreach"),
                None,
                Rule::ManagesProject,
            ),
            web(Method::GET, format!("/projects/{p}/monitors"), Rule::Sees),
            web(Method::GET, format!("/projects/{p}/feedback"), Rule::Sees),
            web(Method::GET, format!("/projects/{p}/releases"), Rule::Sees),
            web(
                Method::GET,
                format!("/projects/{p}/releases/shop%401.0.0"),
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/releases"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/releases/shop%401.0.0"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/releases/shop%401.0.0/check"),
                None,
                Rule::Sees,
            ),
            api(
                Method::POST,
                format!("/api/v1/projects/{p}/releases/shop%401.0.0/deploys"),
                Some(json!({"environment": "production"})),
                Rule::Sees,
            ),
            web(
                Method::GET,
                format!("/projects/{p}/monitors/{m}"),
                Rule::Sees,
            ),
            form(
                format!("/projects/{p}/monitors"),
                &[
                    ("action", "create"),
                    ("kind", "sitemap"),
                    ("name", "Pages"),
                    ("url", "http://127.0.0.1:9/sitemap.xml"),
                ],
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/monitors/{m}"),
                &[("action", "update"), ("failures", "3")],
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/monitors"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/monitors/{m}"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/monitors/{m}/checkins"),
                None,
                Rule::Sees,
            ),
            api(
                Method::PATCH,
                format!("/api/v1/monitors/{m}"),
                Some(json!({"failures": 3})),
                Rule::ManagesProject,
            ),
            web(Method::GET, format!("/projects/{p}/issues"), Rule::Sees),
            web(
                Method::GET,
                format!("/projects/{p}/issues/{issue_id}"),
                Rule::Sees,
            ),
            web(
                Method::GET,
                format!("/projects/{p}/issues/{issue_id}/events/{event_id}"),
                Rule::Sees,
            ),
            web(
                Method::GET,
                format!("/projects/{p}/issues/{issue_id}/events"),
                Rule::Sees,
            ),
            form(
                format!("/projects/{p}/issues/{issue_id}/status"),
                &[("status", "unresolved")],
                Rule::Sees,
            ),
            form(format!("/projects/{p}/test-event"), &[], Rule::Sees),
            form(
                format!("/projects/{p}/issues/{issue_id}/comments"),
                &[("body", "seen it")],
                Rule::Sees,
            ),
            form(
                format!("/projects/{p}/issues/{issue_id}/assign"),
                &[("assignee", "")],
                Rule::Sees,
            ),
            form(
                format!("/projects/{p}/issues/{issue_id}/ticket"),
                &[("url", "https://tracker.example/1")],
                Rule::Sees,
            ),
            api(
                Method::PATCH,
                format!("/api/v1/issues/{issue_id}"),
                Some(json!({"assignee": null})),
                Rule::Sees,
            ),
            api(
                Method::PUT,
                format!("/api/v1/issues/{issue_id}/ticket"),
                Some(json!({"url": "https://tracker.example/2"})),
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/ownership"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::PUT,
                format!("/api/v1/projects/{p}/ownership"),
                Some(json!({"rules": ""})),
                Rule::ManagesProject,
            ),
            api(
                Method::POST,
                format!("/api/v1/projects/{p}/ownership/apply"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::PUT,
                format!("/api/v1/projects/{p}/source-links"),
                Some(json!({"template": null})),
                Rule::ManagesProject,
            ),
            api(
                Method::PUT,
                format!("/api/v1/projects/{p}/ticket-template"),
                Some(json!({"template": null})),
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/issues/bulk"),
                &[("status", "unresolved"), ("issue", &issue_id.to_string())],
                Rule::Sees,
            ),
            web(
                Method::GET,
                format!("/projects/{p}/settings"),
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/settings"),
                &[
                    ("action", "retention"),
                    ("retention_events", "0"),
                    ("retention_days", "0"),
                ],
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/settings"),
                &[("action", "add_recipient"), ("email", "ops@example.com")],
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/settings"),
                &[
                    ("action", "add_webhook"),
                    ("url", "http://127.0.0.1:9/other"),
                ],
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/settings"),
                &[
                    ("action", "add_member"),
                    ("email", "extra@example.com"),
                    ("role", "member"),
                ],
                Rule::ManagesProject,
            ),
            web(
                Method::GET,
                format!("/projects/{p}/audit"),
                Rule::ManagesProject,
            ),
            web(Method::GET, "/account".into(), Rule::SignedIn),
            form(
                "/projects".into(),
                &[("name", "made by a persona")],
                Rule::ManagesInstance,
            ),
            web(Method::GET, "/admin/users".into(), Rule::ManagesInstance),
            form(
                "/admin/users".into(),
                &[
                    ("action", "add_member"),
                    ("email", "member@example.com"),
                    ("project", "default"),
                ],
                Rule::ManagesInstance,
            ),
            api(Method::GET, "/api/v1/projects".into(), None, Rule::SignedIn),
            api(Method::GET, "/api/v1/tokens".into(), None, Rule::SignedIn),
            api(
                Method::GET,
                "/api/v1/users".into(),
                None,
                Rule::ManagesInstance,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/members"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::PUT,
                format!("/api/v1/projects/{p}/members"),
                Some(json!({"email": "extra@example.com", "role": "member"})),
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/audit"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/issues"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/issues/{issue_id}"),
                None,
                Rule::Sees,
            ),
            api(
                Method::PATCH,
                format!("/api/v1/issues/{issue_id}"),
                Some(json!({"status": "unresolved"})),
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/issues/{issue_id}/events"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/issues/{issue_id}/users"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/issues/{issue_id}/feedback"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/feedback"),
                None,
                Rule::Sees,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/recipients"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::POST,
                format!("/api/v1/projects/{p}/recipients"),
                Some(json!({"email": "oncall@example.com"})),
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/webhooks"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::POST,
                format!("/api/v1/projects/{p}/webhooks"),
                Some(json!({"url": "http://127.0.0.1:9/other"})),
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/notifications"),
                None,
                Rule::ManagesProject,
            ),
            web(
                Method::GET,
                format!("/projects/{p}/alerts"),
                Rule::ManagesProject,
            ),
            form(
                format!("/projects/{p}/alerts"),
                &[
                    ("action", "save"),
                    ("name", "New"),
                    ("first_seen", "on"),
                    ("email_recipients", "on"),
                ],
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/projects/{p}/alert-rules"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::POST,
                format!("/api/v1/projects/{p}/alert-rules"),
                Some(
                    json!({"name": "New", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "webhook"}]}),
                ),
                Rule::ManagesProject,
            ),
            api(
                Method::GET,
                format!("/api/v1/alert-rules/{rule}"),
                None,
                Rule::ManagesProject,
            ),
            api(
                Method::PATCH,
                format!("/api/v1/alert-rules/{rule}"),
                Some(json!({"throttle_minutes": 30})),
                Rule::ManagesProject,
            ),
        ];
        for case in &cases {
            for (persona, who) in &people {
                let answer = ask(&server, who, case).await;
                assert_eq!(
                    answer,
                    case.rule.expected(*persona),
                    "{}: {} {} as {persona:?}",
                    db.kind,
                    case.method,
                    case.path
                );
            }
        }
        // Settings are linked only for those who may change them.
        let settings_link = format!("href=\"/projects/{p}/settings\"");
        for (persona, who) in &people {
            let Some(cookie) = &who.cookie else { continue };
            if *persona == Persona::NonMember {
                continue;
            }
            let (_, html) = common::page(&server, cookie, &format!("/projects/{p}/issues")).await;
            assert_eq!(
                html.contains(&settings_link),
                *persona != Persona::Member,
                "{}: settings link for {persona:?}",
                db.kind
            );
        }
        // Removing: the members' attempts fail, so the webhook is still there for the
        // project admin's.
        let remove = api(
            Method::DELETE,
            format!("/api/v1/projects/{p}/webhooks/{}", hook.id),
            None,
            Rule::ManagesProject,
        );
        for (persona, who) in &people {
            if *persona == Persona::InstanceAdmin {
                continue;
            }
            assert_eq!(
                ask(&server, who, &remove).await,
                remove.rule.expected(*persona),
                "{}: DELETE webhook as {persona:?}",
                db.kind
            );
        }
    }
}
