//! A database written by an earlier release opens in this one: migrations run, the
//! data is all there, and grouping is unchanged (the same events sent again land in the
//! issues the earlier collector made). The databases are in `tests/fixtures/upgrade/`
//! (how they were made: its README), on SQLite and on PostgreSQL.

use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

use crate::common::{self, TestDb, TestServer};
use mayday_collector::store::{IssueFilter, IssueStatus, MonitorKind, ProjectRole, Store};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");

/// The fixture's coupon event again, with a new id: it must join the coupon issue.
fn coupon_event_again() -> serde_json::Value {
    json!({
        "event_id": uuid::Uuid::new_v4().simple().to_string(),
        "level": "fatal",
        "platform": "rust",
        "release": "shop@1.4.3",
        "environment": "production",
        "user": {"id": "44", "email": "carol@example.com", "username": "Carol Smith"},
        "request": {"method": "POST", "url": "http://shop.example/checkout?bundle=team"},
        "exception": {"values": [{
            "type": "panic",
            "value": "coupon BLACKFRIDAY is not in the discount table",
            "stacktrace": {"frames": [
                {"function": "tokio::runtime::task::harness::poll", "in_app": false},
                {"function": "axum_app::checkout::apply_coupon", "module": "axum_app::checkout",
                 "filename": "src/checkout.rs", "lineno": 21, "in_app": true}
            ]}
        }]}
    })
}

/// Opens `db` (holding the fixture) with today's collector and checks everything the
/// fixture's collector wrote.
async fn check_upgraded(db: &TestDb) {
    let server = TestServer::open(db, &[]).await;
    let store = &server.state.store;

    // Accounts, and their passwords still sign in.
    let admin = store.account_by_email("admin@example.com").await.unwrap();
    assert!(admin.is_admin && admin.active);
    assert_eq!(admin.name.as_deref(), Some("Ann Admin"));
    let member = store.account_by_email("member@example.com").await.unwrap();
    assert!(!member.is_admin);
    assert_eq!(store.tokens(admin.id).await.unwrap().len(), 1);
    let cookie = common::sign_in(&server, "member@example.com", "correct horse battery").await;

    // Projects and their settings.
    let default = store.project_by_name("default").await.unwrap();
    assert_eq!(
        (default.spike_threshold, default.spike_window_minutes),
        (50, 5)
    );
    // Alert rules came after this database: it gets the Default rule, its spike in it.
    let rules = store.alert_rules(default.id).await.unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let rule = mayday_collector::alerts::rule::RuleSpec::from_row(&rules[0]).unwrap();
    assert_eq!(rule.name, "Default");
    assert_eq!(
        serde_json::to_value(&rule.conditions).unwrap(),
        serde_json::json!([{"kind": "first_seen"}, {"kind": "regression"},
                           {"kind": "event_frequency", "value": 50, "interval_minutes": 5}])
    );
    assert_eq!(
        serde_json::to_value(&rule.actions).unwrap(),
        serde_json::json!([{"kind": "email", "to": "recipients"}, {"kind": "webhook"}])
    );
    assert_eq!(
        store.recipients(default.id).await.unwrap(),
        vec!["team@example.com".to_owned()]
    );
    let members = store.members(default.id).await.unwrap();
    assert!(
        members
            .iter()
            .any(|(account, role)| account.email == "member@example.com"
                && *role == ProjectRole::Member),
        "{members:?}"
    );
    store.project_by_name("shop").await.unwrap();

    // Issues, their counts, statuses and users.
    let issues = common::api_json(
        &server,
        &server.token("upgrade-check@example.com", true).await,
        &format!("/api/v1/projects/{}/issues", default.id),
    )
    .await;
    let issues = issues["issues"].as_array().unwrap().clone();
    assert_eq!(issues.len(), 2, "{issues:?}");
    let coupon = issues
        .iter()
        .find(|i| i["title"].as_str().unwrap().contains("coupon BLACKFRIDAY"))
        .unwrap();
    let cart = issues
        .iter()
        .find(|i| i["title"].as_str().unwrap().contains("index out of bounds"))
        .unwrap();
    assert_eq!(
        (coupon["count"].as_i64(), coupon["user_count"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(cart["status"], "resolved");
    let coupon_id = coupon["id"].as_i64().unwrap();
    let users = store.issue_users(coupon_id).await.unwrap();
    let emails: Vec<_> = users.iter().filter_map(|u| u.email.clone()).collect();
    assert!(
        emails.contains(&"jane@example.com".to_owned()),
        "{emails:?}"
    );
    assert!(emails.contains(&"bob@example.com".to_owned()), "{emails:?}");
    assert_eq!(store.issue_events(coupon_id, 0, 10).await.unwrap().len(), 2);
    // The list's environment and release filters read rows the upgrade made from the
    // stored events (m0026).
    let cart_id = cart["id"].as_i64().unwrap();
    let both = vec![coupon_id.min(cart_id), coupon_id.max(cart_id)];
    assert_eq!(
        filtered(store, default.id, Some("production"), None).await,
        both
    );
    assert_eq!(
        filtered(store, default.id, None, Some("shop@1.4.2")).await,
        both
    );
    assert!(
        filtered(store, default.id, Some("staging"), None)
            .await
            .is_empty()
    );

    // Monitors: the uptime check and the cron monitor made by its check-in.
    let monitors = store.monitors(default.id).await.unwrap();
    let kinds: Vec<(&str, MonitorKind)> =
        monitors.iter().map(|m| (m.slug.as_str(), m.kind)).collect();
    assert!(
        kinds.contains(&("shop-home", MonitorKind::Http)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("nightly-export", MonitorKind::Cron)),
        "{kinds:?}"
    );

    // Grouping unchanged: the same crash joins its issue; nothing new is made.
    common::ingest(&server, &coupon_event_again()).await;
    let after = store.issue(coupon_id).await.unwrap().unwrap();
    assert_eq!((after.event_count, after.user_count), (3, 3));
    assert_eq!(
        filtered(store, default.id, Some("production"), Some("shop@1.4.3")).await,
        vec![coupon_id]
    );
    assert_eq!(after.status, IssueStatus::Unresolved);
    let (status, page) = common::page(
        &server,
        &cookie,
        &format!("/projects/{}/issues/{coupon_id}", default.id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("jane@example.com"),
        "the issue page shows its users"
    );
    let listed = store.list_projects().await.unwrap();
    assert_eq!(listed.len(), 2);
}

/// The ids of `project_id`'s issues the list shows for an environment and a release,
/// in id order.
async fn filtered(
    store: &Store,
    project_id: i64,
    environment: Option<&str>,
    release: Option<&str>,
) -> Vec<i64> {
    let filter = IssueFilter {
        environment: environment.map(str::to_owned),
        release: release.map(str::to_owned),
        limit: 50,
        ..Default::default()
    };
    let mut ids: Vec<i64> = store
        .list_issues(project_id, &filter)
        .await
        .unwrap()
        .iter()
        .map(|issue| issue.id)
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_database_of_an_earlier_release_opens_with_its_data_and_grouping() {
    let db = common::sqlite();
    let path = db
        .url
        .trim_start_matches("sqlite://")
        .trim_end_matches("?mode=rwc")
        .to_owned();
    std::fs::copy(format!("{FIXTURES}/mayday-sqlite.db"), &path).unwrap();
    check_upgraded(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_of_an_earlier_release_opens_with_its_data_and_grouping() {
    let Some(db) = common::postgres().await else {
        eprintln!("MAYDAY_TEST_POSTGRES_URL is not set: PostgreSQL not tested");
        return;
    };
    let dump = std::fs::read_to_string(format!("{FIXTURES}/mayday-postgres.sql")).unwrap();
    // Its own connection: the dump empties `search_path` for the session it runs in.
    let connection = Database::connect(&db.url).await.unwrap();
    connection.execute_unprepared(&dump).await.unwrap();
    connection.close().await.unwrap();
    check_upgraded(&db).await;
}
