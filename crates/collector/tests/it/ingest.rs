//! The ingest endpoints over real HTTP on loopback, storing into a real SQLite file (and
//! PostgreSQL when configured).

use crate::common;

use std::io::Write;
use std::time::{Duration, Instant};

use crate::common::{TestServer, envelope, panic_event};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(
    server: &TestServer,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new()
        .post(server.envelope_url())
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("collector answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.expect("every answer is JSON");
    (status, body, headers)
}

#[tokio::test]
async fn an_event_is_committed_before_the_answer() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &[]).await;
        let event = panic_event("shop::checkout::apply_coupon", Some("42"));
        let id = event["event_id"].as_str().unwrap().to_owned();
        let (status, body, _) = post(
            &server,
            envelope(&event),
            &[("x-sentry-auth", server.auth())],
        )
        .await;
        assert_eq!(status, 200, "{}: {body}", db.kind);
        assert_eq!(body["id"], id);
        // Answered 200: already on disk, no waiting.
        let issues = server.issues().await;
        assert_eq!(issues.len(), 1);
        assert_eq!(
            issues[0].title,
            "panic: boom in shop::checkout::apply_coupon"
        );
        assert_eq!(issues[0].user_count, 1);
        let events = server.issue_events(issues[0].id).await;
        assert_eq!(events[0].row.event_id, id);
        assert_eq!(
            events[0].event.exceptions()[0].ty.as_deref(),
            Some("panic"),
            "full payload kept"
        );
    }
}

#[tokio::test]
async fn every_way_to_authenticate() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let event = || envelope(&json!({"message": "hello"}));

    let (status, _, _) = post(&server, event(), &[("x-sentry-auth", server.auth())]).await;
    assert_eq!(status, 200, "X-Sentry-Auth");

    let url = format!(
        "{}?sentry_version=7&sentry_key={}",
        server.envelope_url(),
        server.key
    );
    let response = reqwest::Client::new()
        .post(url)
        .body(event())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "sentry_key query parameter");

    let mut with_dsn = format!("{{\"dsn\":\"{}\"}}\n", server.dsn).into_bytes();
    with_dsn.extend_from_slice(&event()[3..]);
    let (status, _, _) = post(&server, with_dsn, &[]).await;
    assert_eq!(status, 200, "dsn in the envelope header");

    let (status, body, _) = post(&server, event(), &[]).await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().unwrap().contains("no credentials"));

    let wrong = "Sentry sentry_version=7, sentry_key=0000".to_owned();
    let (status, body, _) = post(&server, event(), &[("x-sentry-auth", wrong)]).await;
    assert_eq!(status, 403);
    assert_eq!(body["detail"], "unknown DSN key");

    let other = server.state.store.create_project("other").await.unwrap();
    let other_auth = format!("Sentry sentry_key={}", other.keys[0].public_key);
    let (status, body, _) = post(&server, event(), &[("x-sentry-auth", other_auth)]).await;
    assert_eq!(status, 403, "a key of another project");
    assert!(body["detail"].as_str().unwrap().contains("does not belong"));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn compressed_bodies_and_bombs() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let body = envelope(&json!({"message": "compressed"}));
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
        w.write_all(&body).unwrap();
    }
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(&body).unwrap();
    for (encoding, data) in [
        ("gzip", gzip(&body)),
        ("x-gzip", gzip(&body)),
        ("deflate", deflate.finish().unwrap()),
        ("br", br),
        ("zstd", zstd::stream::encode_all(&body[..], 3).unwrap()),
        ("identity", body.clone()),
    ] {
        let (status, response, _) = post(
            &server,
            data,
            &[
                ("x-sentry-auth", server.auth()),
                ("content-encoding", encoding.to_owned()),
            ],
        )
        .await;
        assert_eq!(status, 200, "{encoding}: {response}");
    }

    // 64 MiB of zeros in about 64 KiB: refused fast, without inflating it all.
    let bomb = gzip(&vec![b' '; 64 << 20]);
    let started = Instant::now();
    let (status, response, _) = post(
        &server,
        bomb,
        &[
            ("x-sentry-auth", server.auth()),
            ("content-encoding", "gzip".into()),
        ],
    )
    .await;
    assert_eq!(status, 413, "{response}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let (status, response, _) = post(
        &server,
        b"not gzip".to_vec(),
        &[
            ("x-sentry-auth", server.auth()),
            ("content-encoding", "gzip".into()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(response["detail"].as_str().unwrap().contains("gzip"));
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_problem() {
    let db = common::sqlite();
    let server = TestServer::start(
        &db,
        &[
            "--max-event-bytes",
            "2000",
            "--max-envelope-bytes",
            "100000",
        ],
    )
    .await;
    let auth = [("x-sentry-auth", server.auth())];
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"".to_vec(), 400, "empty"),
        (b"{not json".to_vec(), 400, "envelope header"),
        (
            b"{}\n{\"type\":\"event\",\"length\":999}\n{}".to_vec(),
            400,
            "exceeds",
        ),
        (
            envelope(&json!({"level": 12})),
            400,
            "event payload is invalid",
        ),
        (
            envelope(&json!({"timestamp": "yesterday"})),
            400,
            "timestamp",
        ),
        (
            envelope(&json!({"message": "x".repeat(3000)})),
            413,
            "larger than 2000",
        ),
        (vec![b'{'; 200_000], 413, "larger than 100000"),
    ];
    for (body, expected, detail) in cases {
        let (status, response, _) = post(&server, body, &auth).await;
        assert_eq!(status.as_u16(), expected, "{response}");
        assert!(
            response["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(detail),
            "{detail:?} in {response}"
        );
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/abc/envelope/", server.base))
        .body(envelope(&json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Nothing was stored by any of that, and the server still works.
    let (status, _, _) = post(&server, envelope(&json!({"message": "still fine"})), &auth).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn other_item_types_are_accepted_check_ins_stored_and_client_reports_counted() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let report = r#"{"timestamp":1700000000,"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":7}]}"#;
    let body = format!(
        "{{}}\n{{\"type\":\"session\"}}\n{{\"sid\":\"x\"}}\n{{\"type\":\"transaction\"}}\n{{}}\n{{\"type\":\"attachment\",\"length\":3}}\nabc\n{{\"type\":\"check_in\"}}\n{{\"monitor_slug\":\"nightly\",\"status\":\"ok\"}}\n{{\"type\":\"log\"}}\n{{}}\n{{\"type\":\"brand_new_type\"}}\n{{}}\n{{\"type\":\"client_report\"}}\n{report}\n"
    );
    let (status, response, _) = post(
        &server,
        body.into_bytes(),
        &[("x-sentry-auth", server.auth())],
    )
    .await;
    assert_eq!(status, 200, "{response}");
    let issues = server.issues().await;
    assert!(issues.is_empty(), "no issue");
    let monitor = server
        .state
        .store
        .monitor_by_slug(server.project_id, "nightly")
        .await
        .unwrap()
        .expect("the check-in's monitor");
    assert_eq!(monitor.status, mayday_collector::store::MonitorStatus::Ok);
    // A check-in that is not one refuses the envelope, naming the item.
    let bad = "{}\n{\"type\":\"check_in\"}\n{}\n";
    let (status, response, _) = post(
        &server,
        bad.as_bytes().to_vec(),
        &[("x-sentry-auth", server.auth())],
    )
    .await;
    assert_eq!(status, 400);
    let detail = response["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("item 0") && detail.contains("monitor_slug"),
        "{response}"
    );
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"mayday_client_discarded_events_total{reason="queue_overflow",category="error"} 7"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn over_the_rate_limit_answers_429_with_sentry_headers() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &["--rate-limit", "3"]).await;
    let auth = [("x-sentry-auth", server.auth())];
    for _ in 0..3 {
        let (status, _, _) = post(&server, envelope(&json!({"message": "m"})), &auth).await;
        assert_eq!(status, 200);
    }
    let (status, response, headers) =
        post(&server, envelope(&json!({"message": "m"})), &auth).await;
    assert_eq!(status, 429, "{response}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let limits = headers["x-sentry-rate-limits"].to_str().unwrap();
    assert!(
        limits.starts_with(&format!("{retry_after}:error")),
        "{limits}"
    );
    // A per-project limit overrides the default.
    server
        .state
        .store
        .set_rate_limit(server.project_id, 100)
        .await
        .unwrap();
    let (status, _, _) = post(&server, envelope(&json!({"message": "m"})), &auth).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn cors_preflight_health_and_metrics() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.envelope_url())
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");

    let health: Value = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let (status, _, _) = post(
        &server,
        envelope(&json!({"message": "m"})),
        &[("x-sentry-auth", server.auth())],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = post(
        &server,
        b"junk".to_vec(),
        &[("x-sentry-auth", server.auth())],
    )
    .await;
    assert_eq!(status, 400);
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "mayday_events_accepted_total 1",
        r#"mayday_events_rejected_total{reason="invalid"} 1"#,
        "mayday_ingest_duration_seconds_count 2",
        "mayday_batch_size_count 1",
        "mayday_database_errors_total 0",
    ] {
        assert!(metrics.contains(expected), "{expected} in {metrics}");
    }
}

#[tokio::test]
async fn the_sender_s_text_is_stored_and_what_it_left_out_read_back_from_the_row() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &[]).await;
        // No event id (the envelope header names it), no time, no level; laid out as a
        // person would, with a field no model knows.
        let sent = "{\n  \"message\": \"spaced out\",\n  \"custom\": {\"n\": 1}\n}";
        let id = "5e0d0a4c1f2b4c3d9e8f7a6b5c4d3e2f";
        let body = format!(
            "{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{sent}\n",
            sent.len()
        );
        let before = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let (status, answer, _) = post(
            &server,
            body.into_bytes(),
            &[("x-sentry-auth", server.auth())],
        )
        .await;
        let after = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        assert_eq!(status, 200, "{}: {answer}", db.kind);
        let issues = server.issues().await;
        let events = server.issue_events(issues[0].id).await;
        let stored = &events[0];
        // Stored as sent, not written again.
        let payload = zstd::stream::decode_all(&stored.row.payload[..]).unwrap();
        assert_eq!(String::from_utf8(payload).unwrap(), sent, "{}", db.kind);
        // Read back with the id, time and level ingest gave it.
        let event = &stored.event;
        assert_eq!(event.event_id.map(|e| e.to_string()).as_deref(), Some(id));
        assert_eq!(event.level, Some(mayday_protocol::Level::Error));
        let time = event.timestamp.expect("a time").0;
        assert!(before - 0.001 <= time && time <= after + 0.001, "{time}");
        assert_eq!(event.message_text(), Some("spaced out"));
        assert_eq!(event.other["custom"], json!({"n": 1}));
    }
}

#[tokio::test]
async fn the_store_endpoint_takes_a_bare_event() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/{}/store/", server.base, server.project_id))
        .header("x-sentry-auth", server.auth())
        .header("content-encoding", "gzip")
        .body(gzip(
            br#"{"event_id":"0123456789abcdef0123456789abcdef","message":"legacy"}"#,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], "0123456789abcdef0123456789abcdef");
}

#[tokio::test]
async fn concurrent_requests_share_batches_and_all_commit() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &["--rate-limit", "0"]).await;
        let client = reqwest::Client::new();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let client = client.clone();
                let url = server.envelope_url();
                let auth = server.auth();
                let body = envelope(&panic_event(
                    &format!("shop::f{}", i % 10),
                    Some(&format!("u{i}")),
                ));
                tokio::spawn(async move {
                    client
                        .post(url)
                        .header("x-sentry-auth", auth)
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
        let issues = server
            .state
            .store
            .list_issues(
                server.project_id,
                &mayday_collector::store::IssueFilter {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(issues.len(), 10, "{}", db.kind);
        assert!(
            issues
                .iter()
                .all(|i| i.event_count == 20 && i.user_count == 20)
        );
        let metrics = server.state.metrics.render();
        let batches: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("mayday_batch_size_count "))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            batches < 200.0,
            "{}: 200 events in {batches} transactions",
            db.kind
        );
    }
}

/// A body that sends `first` and then never ends: only an answer that does not wait for
/// the rest of the body can come back.
fn endless_body(first: Vec<u8>) -> reqwest::Body {
    use futures_util::StreamExt as _;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) })
        .chain(futures_util::stream::pending());
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_key_are_refused_before_their_body_is_read() {
    let db = common::sqlite();
    let server = TestServer::start(&db, &[]).await;
    let client = reqwest::Client::new();
    let bogus = "Sentry sentry_version=7, sentry_key=0123456789abcdef0123456789abcdef";
    /// What is sent: a name, headers, the body's first chunk; and the answer expected.
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, Vec<u8>, StatusCode);
    let cases: Vec<Case> = vec![
        // A key in the header: checked before the body.
        (
            "header key",
            vec![("x-sentry-auth", bogus.to_owned())],
            vec![b'x'; 4096],
            StatusCode::FORBIDDEN,
        ),
        // Only the envelope header names a key: the first line is all that is read.
        (
            "envelope dsn",
            Vec::new(),
            b"{\"dsn\":\"http://0123456789abcdef0123456789abcdef@localhost/1\"}\n{\"type\":\"event\"}\n"
                .to_vec(),
            StatusCode::FORBIDDEN,
        ),
        // No key anywhere, and a first line longer than any header.
        (
            "no key",
            Vec::new(),
            vec![b'x'; 64 << 10],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (name, headers, first, expected) in cases {
        let mut request = client.post(server.envelope_url()).body(endless_body(first));
        for (header, value) in &headers {
            request = request.header(*header, value);
        }
        let response = tokio::time::timeout(Duration::from_secs(10), request.send())
            .await
            .unwrap_or_else(|_| panic!("{name}: answered without reading the whole body"))
            .expect("an answer");
        assert_eq!(response.status(), expected, "{name}");
        assert_eq!(server.state.in_flight.used(), 0, "{name}: nothing held");
    }
}

#[tokio::test]
async fn encodings_are_limited_to_two_layers_and_bytes_in_flight_are_capped() {
    let db = common::sqlite();
    let gzip = |data: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    };
    let server = TestServer::start(&db, &["--max-bytes-in-flight", "2000"]).await;
    let event = envelope(&panic_event("shop::a", None));
    let twice = gzip(&gzip(&event));
    let (status, body, _) = post(
        &server,
        twice,
        &[
            ("x-sentry-auth", server.auth()),
            ("content-encoding", "gzip, gzip".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "two layers are fine: {body}");
    let thrice = gzip(&gzip(&gzip(&event)));
    let (status, body, _) = post(
        &server,
        thrice,
        &[
            ("x-sentry-auth", server.auth()),
            ("content-encoding", "gzip, gzip, gzip".into()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("layers"),
        "{body}"
    );
    let (status, body, _) = post(
        &server,
        event.clone(),
        &[
            ("x-sentry-auth", server.auth()),
            ("content-encoding", "lzma".into()),
        ],
    )
    .await;
    assert_eq!(status, 415, "{body}");
    // A body larger than the bytes all requests may hold: 503 with Retry-After.
    let mut big = panic_event("shop::a", None);
    big["extra"] = json!({"padding": "x".repeat(4000)});
    let (status, body, headers) =
        post(&server, envelope(&big), &[("x-sentry-auth", server.auth())]).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(server.state.in_flight.used(), 0);
}

#[tokio::test]
async fn hostile_values_are_stored_safely() {
    for db in common::databases().await {
        let server = TestServer::start(&db, &[]).await;
        let mut event = panic_event("shop::a", Some("n\u{0}ul"));
        event["message"] = json!("nul \u{0} in the message");
        event["release"] = json!("shop@1.0\u{0}");
        event["environment"] = json!("prod\u{0}");
        event["user"]["name"] = json!("Ja\u{0}ne");
        event["exception"]["values"][0]["value"] = json!("boom \u{0}");
        // A clock in the year 3000.
        event["timestamp"] = json!(32_503_680_000.0);
        let (status, body, _) = post(
            &server,
            envelope(&event),
            &[("x-sentry-auth", server.auth())],
        )
        .await;
        assert_eq!(status, 200, "{}: {body}", db.kind);
        let issue = server.state.store.issue(1).await.unwrap().unwrap();
        assert_eq!(
            issue.last_release.as_deref(),
            Some("shop@1.0"),
            "{}",
            db.kind
        );
        assert!(!issue.title.contains('\u{0}'));
        let now = mayday_collector::store::now_ms();
        assert!(
            issue.last_seen <= now + 61_000,
            "{}: last seen not pinned in the future",
            db.kind
        );
        // The payload keeps what was sent.
        let events = server
            .state
            .store
            .issue_events(issue.id, 0, 1)
            .await
            .unwrap();
        assert_eq!(
            events[0].event.release.as_deref(),
            Some("shop@1.0\u{0}"),
            "{}",
            db.kind
        );
        // Ids and cursors past i64::MAX are 400, as JSON.
        let token = server.token("admin@example.com", true).await;
        for path in [
            "/api/v1/issues/99999999999999999999".to_owned(),
            format!(
                "/api/v1/projects/{}/issues?cursor=9223372036854775808",
                server.project_id
            ),
        ] {
            let response = reqwest::Client::new()
                .get(format!("{}{path}", server.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path}");
            let body: Value = response.json().await.unwrap();
            assert!(body["detail"].is_string(), "{path}: {body}");
        }
    }
}
