//! Alert rules: decided in the batch's transaction (frequency and user frequency at
//! their edges with a moved clock, throttle, filters, any and all, two collectors on one
//! PostgreSQL), delivered in each destination's own format to receivers on loopback
//! (hostile event text escaped), PagerDuty resolved with the trigger's key, the API's
//! checks and who may use it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use serde_json::{Value, json};

use crate::common::{self, TestServer};
use mayday_collector::alerts::rule::RuleSpec;
use mayday_collector::store::{
    Alerting, EventLevel, EventUser, NewEvent, NotificationKind, RuleRow, Store, encode_payload,
    now_ms,
};

/// A rule row from the API's JSON, checked as the API checks it.
fn row(json: Value) -> RuleRow {
    let spec: RuleSpec = serde_json::from_value(json).expect("a rule");
    spec.check().expect("a valid rule");
    let (conditions, filters, actions) = spec.columns();
    RuleRow {
        name: spec.name.clone(),
        match_mode: spec.match_mode.as_str().into(),
        conditions,
        filters,
        actions,
        throttle_minutes: spec.throttle_minutes.map(i64::from),
    }
}

/// A project whose only rule is `rule`; returns (store, project id, rule id).
async fn project_with(store: &Store, name: &str, rule: Value) -> (i64, i64) {
    let project = store.create_project(name).await.unwrap().project;
    for default in store.alert_rules(project.id).await.unwrap() {
        store.remove_alert_rule(default.id).await.unwrap();
    }
    store
        .add_recipient(project.id, "team@example.com")
        .await
        .unwrap();
    let rule = store.add_alert_rule(project.id, row(rule)).await.unwrap();
    (project.id, rule.id)
}

/// An event of issue `fingerprint` by `user`, received at `at` (the moved clock).
fn event(project_id: i64, fingerprint: &str, user: &str, at: i64) -> NewEvent {
    NewEvent {
        project_id,
        event_id: uuid::Uuid::new_v4().simple().to_string(),
        received_at: at,
        timestamp: at,
        level: EventLevel::Error,
        environment: Some("production".into()),
        release: Some("shop@1.0.0".into()),
        user: Some(EventUser {
            key: format!("id:{user}"),
            id: Some(user.into()),
            ..Default::default()
        }),
        fingerprint: fingerprint.into(),
        title: format!("Error: {fingerprint}"),
        culprit: None,
        payload: encode_payload(br#"{"message":"x"}"#).unwrap(),
        tags: vec![("tenant".into(), "acme".into())],
        paths: vec!["src/billing/invoice.rs".into()],
        modules: vec!["shop::billing".into()],
        url: Some("https://shop.example.com/checkout/pay".into()),
        ownership: None,
    }
}

/// Stores `event` alone; returns how many deliveries it queued.
async fn store_one(store: &Store, event: NewEvent) -> usize {
    let mut stored = store.ingest_batch(&[event], Alerting::default()).await;
    stored.remove(0).expect("stored").notifications
}

#[tokio::test]
async fn frequency_fires_at_n_plus_one_then_waits_out_the_throttle() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let (project, _) = project_with(
            &store,
            "busy",
            json!({"name": "busy", "conditions": [{"kind": "event_frequency", "value": 3, "interval_minutes": 1}],
                   "actions": [{"kind": "email", "to": "recipients"}], "throttle_minutes": 10}),
        )
        .await;
        let t = now_ms();
        // Three events in the minute: not more than 3.
        for i in 0..3 {
            assert_eq!(
                store_one(&store, event(project, "f", "u", t + i * 1000)).await,
                0,
                "{}",
                db.kind
            );
        }
        // The fourth is more than 3: one alert.
        assert_eq!(
            store_one(&store, event(project, "f", "u", t + 3000)).await,
            1,
            "{}",
            db.kind
        );
        // A fifth within the throttle: nothing.
        assert_eq!(
            store_one(&store, event(project, "f", "u", t + 4000)).await,
            0,
            "{}",
            db.kind
        );
        // Eleven minutes on, three in the new minute: not more than 3, nothing.
        let later = t + 11 * 60_000;
        for i in 0..3 {
            assert_eq!(
                store_one(&store, event(project, "f", "u", later + i)).await,
                0,
                "{}",
                db.kind
            );
        }
        // The fourth, past the throttle: alerts again.
        assert_eq!(
            store_one(&store, event(project, "f", "u", later + 3)).await,
            1,
            "{}",
            db.kind
        );
        let rows = store.notifications(project, None, 10).await.unwrap();
        assert!(
            rows.iter().all(|r| r.kind == NotificationKind::Spike),
            "{}",
            db.kind
        );
    }
}

#[tokio::test]
async fn user_frequency_and_all_of_them_for_the_same_event() {
    for db in common::databases().await {
        let store = Store::connect(&db.url).await.unwrap();
        let (users, _) = project_with(
            &store,
            "users",
            json!({"name": "users", "conditions": [{"kind": "user_frequency", "value": 2, "interval_minutes": 60}],
                   "actions": [{"kind": "email", "to": "recipients"}]}),
        )
        .await;
        let t = now_ms();
        assert_eq!(store_one(&store, event(users, "f", "a", t)).await, 0);
        assert_eq!(store_one(&store, event(users, "f", "b", t + 1)).await, 0);
        assert_eq!(
            store_one(&store, event(users, "f", "b", t + 2)).await,
            0,
            "b again: still 2 users"
        );
        assert_eq!(
            store_one(&store, event(users, "f", "c", t + 3)).await,
            1,
            "a third user"
        );
        let kinds: Vec<_> = store
            .notifications(users, None, 10)
            .await
            .unwrap()
            .iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds, [NotificationKind::UserFrequency]);

        // "5 events AND 1 user": many events of one user do not fire; a second user does.
        let (both, _) = project_with(
            &store,
            "both",
            json!({"name": "both", "match": "all", "conditions": [
                       {"kind": "event_frequency", "value": 5, "interval_minutes": 60},
                       {"kind": "user_frequency", "value": 1, "interval_minutes": 60}],
                   "actions": [{"kind": "email", "to": "recipients"}]}),
        )
        .await;
        for i in 0..8 {
            assert_eq!(
                store_one(&store, event(both, "g", "a", t + i)).await,
                0,
                "{} one user",
                db.kind
            );
        }
        assert_eq!(
            store_one(&store, event(both, "g", "b", t + 9)).await,
            1,
            "{} both hold",
            db.kind
        );

        // Any: either is enough.
        let (any, _) = project_with(
            &store,
            "any",
            json!({"name": "any", "conditions": [
                       {"kind": "event_frequency", "value": 5, "interval_minutes": 60},
                       {"kind": "user_frequency", "value": 1, "interval_minutes": 60}],
                   "actions": [{"kind": "email", "to": "recipients"}], "throttle_minutes": 0}),
        )
        .await;
        assert_eq!(store_one(&store, event(any, "h", "a", t)).await, 0);
        assert_eq!(
            store_one(&store, event(any, "h", "b", t + 1)).await,
            1,
            "2 users is more than 1"
        );
    }
}

#[tokio::test]
async fn filters_must_all_hold() {
    let db = common::sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    let t = now_ms();
    for (filters, holds) in [
        (
            json!([{"kind": "environment", "value": "production"}, {"kind": "level_at_least", "value": "error"}]),
            true,
        ),
        (json!([{"kind": "environment", "value": "staging"}]), false),
        (json!([{"kind": "level_at_least", "value": "fatal"}]), false),
        (
            json!([{"kind": "release", "value": "latest"}, {"kind": "tag", "key": "tenant", "value": "acme"}]),
            true,
        ),
        (json!([{"kind": "release", "value": "shop@0.9.0"}]), false),
        (
            json!([{"kind": "path", "value": "src/billing/*"}, {"kind": "url", "value": "*/checkout*"}]),
            true,
        ),
        (json!([{"kind": "path", "value": "src/cart/*"}]), false),
        (json!([{"kind": "url", "value": "*/cart*"}]), false),
    ] {
        let name = format!("filters-{}", uuid::Uuid::new_v4().simple());
        let (project, _) = project_with(
            &store,
            &name,
            json!({"name": "filtered", "conditions": [{"kind": "first_seen"}], "filters": filters,
                   "actions": [{"kind": "email", "to": "recipients"}]}),
        )
        .await;
        let queued = store_one(&store, event(project, "f", "u", t)).await;
        assert_eq!(queued, usize::from(holds), "{filters}");
    }
}

/// Two collectors on one PostgreSQL storing the same new issue's events at once: the
/// first-seen rule fires once, the frequency rule once (its throttle holds across both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_fire_each_alert_once() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let one = Store::connect(&db.url).await.unwrap();
    let two = Store::connect(&db.url).await.unwrap();
    let (project, _) = project_with(
        &one,
        "shared",
        json!({"name": "new", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "email", "to": "recipients"}]}),
    )
    .await;
    one.add_alert_rule(
        project,
        row(json!({"name": "busy", "conditions": [{"kind": "event_frequency", "value": 10, "interval_minutes": 60}],
                   "actions": [{"kind": "email", "to": "recipients"}], "throttle_minutes": 60})),
    )
    .await
    .unwrap();
    let t = now_ms();
    let batches = |offset: i64| -> Vec<Vec<NewEvent>> {
        (0..10)
            .map(|b| {
                (0..5)
                    .map(|i| event(project, "same", "u", t + offset + b * 10 + i))
                    .collect()
            })
            .collect()
    };
    let run = |store: Store, batches: Vec<Vec<NewEvent>>| async move {
        for batch in batches {
            for result in store.ingest_batch(&batch, Alerting::default()).await {
                result.expect("stored");
            }
        }
    };
    tokio::join!(run(one.clone(), batches(0)), run(two.clone(), batches(5)));
    let rows = one.notifications(project, None, 100).await.unwrap();
    let count = |kind| rows.iter().filter(|r| r.kind == kind).count();
    assert_eq!(count(NotificationKind::NewIssue), 1, "{rows:?}");
    assert_eq!(count(NotificationKind::Spike), 1, "{rows:?}");
}

type Seen = Arc<Mutex<Vec<(String, HeaderMap, Value)>>>;

/// A receiver on loopback that keeps every POST: (path, headers, JSON body).
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let keep = keep.clone();
        async move {
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            keep.lock()
                .unwrap()
                .push((uri.path().to_owned(), headers, body));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

/// Waits until `seen` holds a POST to `path` satisfying `matches` (at most 20 s).
async fn posted(seen: &Seen, path: &str, matches: impl Fn(&Value) -> bool) -> (HeaderMap, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((_, headers, body)) = seen
            .lock()
            .unwrap()
            .iter()
            .find(|(p, _, body)| p == path && matches(body))
        {
            return (headers.clone(), body.clone());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing posted to {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_destination_gets_its_own_format_and_pagerduty_resolves() {
    let (base, seen) = receiver().await;
    let db = common::sqlite();
    let server =
        TestServer::start(&db, &["--notify-poll-ms", "50", "--allow-private-targets"]).await;
    let token = server.token("admin@example.com", true).await;
    let client = common::client();
    let rule = json!({
        "name": "everywhere",
        "conditions": [{"kind": "first_seen"}],
        "actions": [
            {"kind": "slack", "url": format!("{base}/slack")},
            {"kind": "discord", "url": format!("{base}/discord")},
            {"kind": "teams", "url": format!("{base}/teams")},
            {"kind": "google_chat", "url": format!("{base}/chat")},
            {"kind": "mattermost", "url": format!("{base}/mattermost")},
            {"kind": "ntfy", "url": format!("{base}/ntfy/shop-alerts"), "token": "tk_secret"},
            {"kind": "pagerduty", "routing_key": "R0UTING", "url": format!("{base}/pagerduty")},
        ],
    });
    let created: Value = client
        .post(format!(
            "{}/api/v1/projects/{}/alert-rules",
            server.base, server.project_id
        ))
        .bearer_auth(&token)
        .json(&rule)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["name"], "everywhere", "{created}");
    assert_eq!(created["actions"].as_array().map(Vec::len), Some(7));

    let hostile = "<!channel> @everyone **bold** [x](https://evil.example) <b>&";
    let mut crash = common::panic_event("shop::checkout::pay", None);
    crash["exception"]["values"][0]["value"] = json!(hostile);
    crash["user"] = json!({"id": "42", "name": "Jane Doe", "email": "jane@example.com"});
    common::ingest(&server, &crash).await;
    let link = format!("/projects/{}/issues/", server.project_id);

    let (_, slack) = posted(&seen, "/slack", |_| true).await;
    assert!(
        slack["text"]
            .as_str()
            .unwrap()
            .contains("Jane Doe &lt;jane@example.com&gt;"),
        "{slack}"
    );
    assert_eq!(slack["blocks"][0]["type"], "section");
    assert_eq!(slack["blocks"][0]["text"]["type"], "mrkdwn");
    assert!(
        slack["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains(&link)
    );
    assert!(!slack.to_string().contains("<!channel>"), "{slack}");

    let (_, discord) = posted(&seen, "/discord", |_| true).await;
    assert!(discord["content"].is_string());
    assert!(discord["embeds"][0]["title"].is_string());
    assert!(
        discord["embeds"][0]["url"]
            .as_str()
            .unwrap()
            .contains(&link)
    );
    assert!(discord["embeds"][0]["fields"].as_array().is_some_and(|f| {
        f.iter()
            .all(|f| f["name"].is_string() && f["value"].is_string())
    }));
    assert_eq!(discord["allowed_mentions"]["parse"], json!([]));
    assert!(
        !discord["content"].as_str().unwrap().contains("**bold**"),
        "{discord}"
    );

    let (_, teams) = posted(&seen, "/teams", |_| true).await;
    assert_eq!(teams["type"], "message");
    assert_eq!(
        teams["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(teams["attachments"][0]["content"]["type"], "AdaptiveCard");
    assert_eq!(
        teams["attachments"][0]["content"]["actions"][0]["type"],
        "Action.OpenUrl"
    );

    let (_, chat) = posted(&seen, "/chat", |_| true).await;
    assert!(chat["text"].as_str().unwrap().contains(&link));
    let sections = chat["cardsV2"][0]["card"]["sections"].to_string();
    assert!(sections.contains("&lt;b&gt;"), "{chat}");
    assert!(!sections.contains("<b>"), "{chat}");

    let (_, mattermost) = posted(&seen, "/mattermost", |_| true).await;
    assert!(mattermost["text"].is_string());
    assert!(
        mattermost["attachments"][0]["title_link"]
            .as_str()
            .unwrap()
            .contains(&link)
    );
    assert!(
        !mattermost.to_string().contains("@everyone"),
        "{mattermost}"
    );

    // ntfy: published as JSON to the server's root, with the topic and the token.
    let (headers, ntfy) = posted(&seen, "/ntfy/", |_| true).await;
    assert_eq!(ntfy["topic"], "shop-alerts");
    assert!(ntfy["title"].as_str().unwrap().contains("Jane Doe"));
    assert!(ntfy["click"].as_str().unwrap().contains(&link));
    assert_eq!(headers["authorization"], "Bearer tk_secret");

    let (_, trigger) = posted(&seen, "/pagerduty", |b| b["event_action"] == "trigger").await;
    assert_eq!(trigger["routing_key"], "R0UTING");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert!(
        trigger["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("Jane Doe <jane@example.com>")
    );
    assert!(trigger["payload"]["source"].is_string());
    assert!(
        trigger["links"][0]["href"]
            .as_str()
            .unwrap()
            .contains(&link)
    );
    let key = trigger["dedup_key"].clone();
    assert!(key.is_string());

    // Resolving the issue resolves the incident, with the same key.
    let issue = common::latest_issue_id(&server, &token).await;
    let answer = client
        .patch(format!("{}/api/v1/issues/{issue}", server.base))
        .bearer_auth(&token)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let (_, resolve) = posted(&seen, "/pagerduty", |b| b["event_action"] == "resolve").await;
    assert_eq!(resolve["dedup_key"], key);
    assert_eq!(resolve["routing_key"], "R0UTING");
}

#[tokio::test]
async fn the_api_names_mistakes_and_keeps_rules_to_project_admins() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let admin = server.token("admin@example.com", true).await;
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    let client = common::client();
    let rules_url = format!(
        "{}/api/v1/projects/{}/alert-rules",
        server.base, server.project_id
    );

    // Every project starts with the Default rule: today's notifications.
    let listed: Value = client
        .get(&rules_url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let default = &listed["alert_rules"][0];
    assert_eq!(default["name"], "Default");
    assert_eq!(
        default["conditions"],
        json!([{"kind": "first_seen"}, {"kind": "regression"}])
    );
    assert_eq!(
        default["actions"],
        json!([{"kind": "email", "to": "recipients"}, {"kind": "webhook"}])
    );

    for (body, named) in [
        (
            json!({"name": "x", "conditions": [{"kind": "often"}], "actions": [{"kind": "webhook"}]}),
            "unknown variant `often`",
        ),
        (
            json!({"name": "x", "conditions": [], "actions": [{"kind": "webhook"}]}),
            "conditions: a rule has 1 to 10",
        ),
        (
            json!({"name": "x", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "slack", "url": "not a url"}]}),
            "Slack needs an http(s) URL",
        ),
        // The outbound policy: no private addresses unless the collector allows them.
        (
            json!({"name": "x", "conditions": [{"kind": "first_seen"}], "actions": [{"kind": "slack", "url": "http://127.0.0.1:9/hook"}]}),
            "actions:",
        ),
        (
            json!({"name": "x", "conditions": [{"kind": "first_seen"}], "filters": [{"kind": "path", "value": "src/[x"}], "actions": [{"kind": "webhook"}]}),
            "is not a glob",
        ),
    ] {
        let answer = client
            .post(&rules_url)
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{body}");
        let text = answer.text().await.unwrap();
        assert!(text.contains(named), "{body}: {text}");
    }

    // A member may not see rules (their URLs and keys are passwords) nor change them.
    let answer = client
        .get(&rules_url)
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let id = default["id"].as_i64().unwrap();
    let rule_url = format!("{}/api/v1/alert-rules/{id}", server.base);
    let answer = client
        .delete(&rule_url)
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);

    // PATCH changes what it names; DELETE removes; the audit log says who did it.
    let changed: Value = client
        .patch(&rule_url)
        .bearer_auth(&admin)
        .json(&json!({"throttle_minutes": 5, "match": "all"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["throttle_minutes"], 5);
    assert_eq!(changed["match"], "all");
    assert_eq!(changed["name"], "Default");
    let answer = client
        .delete(&rule_url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let answer = client
        .get(&rule_url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let audit = common::api_json(
        &server,
        &admin,
        &format!("/api/v1/projects/{}/audit", server.project_id),
    )
    .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"alert_rule_changed"), "{audit}");
    assert!(actions.contains(&"alert_rule_removed"), "{audit}");
}

/// An ignored issue back by its events (decided at ingest) and by its date (decided by
/// the snooze loop, with a moved clock): a `reappeared` rule alerts each time.
#[tokio::test]
async fn reappeared_fires_when_an_ignored_issue_comes_back() {
    use mayday_collector::store::Snooze;
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let store = &server.state.store;
    let p = server.project_id;
    for rule in store.alert_rules(p).await.unwrap() {
        store.remove_alert_rule(rule.id).await.unwrap();
    }
    store.add_recipient(p, "team@example.com").await.unwrap();
    store
        .add_alert_rule(
            p,
            row(
                json!({"name": "back", "conditions": [{"kind": "reappeared"}],
                       "filters": [{"kind": "environment", "value": "production"}],
                       "actions": [{"kind": "email", "to": "recipients"}]}),
            ),
        )
        .await
        .unwrap();
    let t = now_ms();
    assert_eq!(
        store_one(store, event(p, "f", "u", t)).await,
        0,
        "new: not this rule"
    );
    assert!(store.notifications(p, None, 10).await.unwrap().is_empty());
    let issue_id = store
        .ingest_batch(&[event(p, "f", "u", t + 1)], Alerting::default())
        .await
        .remove(0)
        .unwrap()
        .issue_id;
    // Ignored until one more event: the next one brings it back, and alerts.
    store
        .snooze_issue(issue_id, Snooze::MoreEvents(1))
        .await
        .unwrap();
    assert_eq!(store_one(store, event(p, "f", "u", t + 2)).await, 1);
    let kinds: Vec<_> = store
        .notifications(p, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(kinds, [NotificationKind::Reappeared]);

    // Ignored until a date: nothing before it; at it, back and alerted.
    let until = t + 3_600_000;
    store
        .snooze_issue(issue_id, Snooze::Until(until))
        .await
        .unwrap();
    let woken = mayday_collector::scheduler::housekeeping::wake_snoozed(&server.state, until - 1)
        .await
        .unwrap();
    assert_eq!(woken, 0);
    let woken = mayday_collector::scheduler::housekeeping::wake_snoozed(&server.state, until)
        .await
        .unwrap();
    assert_eq!(woken, 1);
    let kinds: Vec<_> = store
        .notifications(p, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        [NotificationKind::Reappeared, NotificationKind::Reappeared]
    );
}
