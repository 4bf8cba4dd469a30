//! The JSON API over real HTTP, with tokens and project visibility.

use crate::common;

use crate::common::{TestServer, envelope, panic_event};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn ingest(server: &TestServer, event: Value) {
    let response = reqwest::Client::new()
        .post(server.envelope_url())
        .header("x-sentry-auth", server.auth())
        .body(envelope(&event))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn get(server: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn issues_events_users_and_status_changes() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &[]).await;
        let token = server.token("admin@example.com", true).await;
        for user in ["1", "2", "1"] {
            ingest(
                &server,
                panic_event("shop::checkout::apply_coupon", Some(user)),
            )
            .await;
        }
        let mut staging = panic_event("shop::cart::add", None);
        staging["environment"] = json!("staging");
        ingest(&server, staging).await;

        let (status, projects) = get(&server, &token, "/api/v1/projects").await;
        assert_eq!(status, 200);
        assert_eq!(projects["projects"][0]["name"], "default");
        assert_eq!(projects["projects"][0]["dsn"], server.dsn);

        let path = format!("/api/v1/projects/{}/issues", server.project_id);
        let (_, list) = get(&server, &token, &path).await;
        let issues = list["issues"].as_array().unwrap();
        assert_eq!(issues.len(), 2, "{}", db.kind);
        let coupon = issues
            .iter()
            .find(|i| i["count"] == 3)
            .expect("the coupon issue");
        assert_eq!(coupon["user_count"], 2);
        assert_eq!(coupon["culprit"], "shop::checkout::apply_coupon");
        assert_eq!(coupon["level"], "fatal");
        assert_eq!(coupon["status"], "unresolved");
        for field in ["id", "title", "first_seen", "last_seen", "fingerprint"] {
            assert!(!coupon[field].is_null(), "{field}");
        }
        let (_, filtered) = get(&server, &token, &format!("{path}?environment=staging")).await;
        assert_eq!(filtered["issues"].as_array().unwrap().len(), 1);
        let (_, searched) = get(
            &server,
            &token,
            &format!("{path}?query=apply_coupon&sort=users"),
        )
        .await;
        assert_eq!(searched["issues"].as_array().unwrap().len(), 1);
        let (status, bad) = get(&server, &token, &format!("{path}?sort=sideways")).await;
        assert_eq!(status, 400);
        assert!(bad["detail"].as_str().unwrap().contains("sort"));

        let id = coupon["id"].as_i64().unwrap();
        let (_, detail) = get(&server, &token, &format!("/api/v1/issues/{id}")).await;
        assert_eq!(detail["count"], 3);
        let (_, events) = get(&server, &token, &format!("/api/v1/issues/{id}/events")).await;
        let events = events["events"].as_array().unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[0]["payload"]["exception"]["values"][0]["type"],
            "panic"
        );
        let (_, users) = get(&server, &token, &format!("/api/v1/issues/{id}/users")).await;
        let users = users["users"].as_array().unwrap();
        assert_eq!(users.len(), 2);
        assert!(
            users
                .iter()
                .any(|u| u["email"] == "1@example.com" && u["event_count"] == 2)
        );

        let client = reqwest::Client::new();
        let resolved: Value = client
            .patch(format!("{}/api/v1/issues/{id}", server.base))
            .bearer_auth(&token)
            .json(&json!({"status": "resolved"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(resolved["status"], "resolved");
        let (_, unresolved) = get(&server, &token, &format!("{path}?status=unresolved")).await;
        assert_eq!(unresolved["issues"].as_array().unwrap().len(), 1);
        let bad = client
            .patch(format!("{}/api/v1/issues/{id}", server.base))
            .bearer_auth(&token)
            .json(&json!({"status": "fixed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);

        // A new event of a resolved issue reopens it.
        ingest(
            &server,
            panic_event("shop::checkout::apply_coupon", Some("3")),
        )
        .await;
        let (_, detail) = get(&server, &token, &format!("/api/v1/issues/{id}")).await;
        assert_eq!(detail["status"], "unresolved");
        assert_eq!(detail["regression_count"], 1);
    }
}

#[tokio::test]
async fn tokens_see_only_their_projects() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    ingest(&server, panic_event("shop::a", None)).await;
    let outsider = server.token("outsider@example.com", false).await;
    let member = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;

    let (_, projects) = get(&server, &outsider, "/api/v1/projects").await;
    assert_eq!(projects["projects"].as_array().unwrap().len(), 0);
    let path = format!("/api/v1/projects/{}/issues", server.project_id);
    let (status, _) = get(&server, &outsider, &path).await;
    assert_eq!(status, 404);
    let (_, list) = get(&server, &member, &path).await;
    let id = list["issues"][0]["id"].as_i64().unwrap();
    let (status, _) = get(&server, &outsider, &format!("/api/v1/issues/{id}")).await;
    assert_eq!(status, 404, "another project's issue is not found");
    let (status, _) = get(&server, &member, &format!("/api/v1/issues/{id}")).await;
    assert_eq!(status, 200);

    let (status, body) = get(&server, "wrong-token", &path).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "unknown token");
    let response = reqwest::get(format!("{}{path}", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

/// The API's status changes take the UI's conditions (ignore until more events, resolve
/// in the next release), and issues merge and unmerge through it too.
#[tokio::test]
async fn status_conditions_merge_and_unmerge_over_the_api() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let token = server.token("member@example.com", false).await;
    server.add_member("member@example.com").await;
    for _ in 0..2 {
        ingest(&server, common::panic_event("shop::a", None)).await;
    }
    ingest(&server, common::panic_event("shop::b", None)).await;
    let (_, list) = get(
        &server,
        &token,
        &format!("/api/v1/projects/{}/issues", server.project_id),
    )
    .await;
    let ids: Vec<i64> = list["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    let send = async |method: reqwest::Method, path: String, body: Value| {
        let response = common::client()
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    let (status, body) = send(
        reqwest::Method::PATCH,
        format!("/api/v1/issues/{}", ids[0]),
        json!({"status": "ignored", "until": "events", "count": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("the count is a number from 1")
    );
    let (status, body) = send(
        reqwest::Method::PATCH,
        format!("/api/v1/issues/{}", ids[0]),
        json!({"status": "ignored", "until": "events", "count": 5}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ignored");
    let issue = server.state.store.issue(ids[0]).await.unwrap().unwrap();
    assert!(issue.snooze_events.is_some());

    let (status, target) = send(
        reqwest::Method::POST,
        format!("/api/v1/projects/{}/issues/merge", server.project_id),
        json!({"issues": ids}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{target}");
    assert_eq!(target["count"], 3);
    let merged = ids
        .iter()
        .copied()
        .find(|id| Some(*id) != target["id"].as_i64())
        .unwrap();
    let (status, back) = send(
        reqwest::Method::POST,
        format!("/api/v1/issues/{merged}/unmerge"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["count"], 1);
    let (status, _) = send(
        reqwest::Method::POST,
        format!("/api/v1/issues/{merged}/unmerge"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not merged any more");
}
