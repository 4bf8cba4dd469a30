//! Latency of the UI's heaviest pages on a big SQLite database.
//!
//! `cargo run --release -p mayday-collector --example ui_bench [ISSUES] [EVENTS]` seeds
//! ISSUES issues (default 100,000) and EVENTS events (default 1,000,000) into a fresh
//! SQLite file, serves the collector on loopback, and times real HTTP requests to the
//! issue list (default and filtered) and to issue pages: p50, p95 and max per page.

use std::time::{Duration, Instant};

use mayday_collector::cli::Cli;
use mayday_collector::store::{Store, encode_payload, now_ms};
use mayday_collector::{AppInner, router};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

const REQUESTS: usize = 200;

/// A page to time: its name, and its path for the i-th request.
type Page = (&'static str, Box<dyn Fn(usize) -> String>);

async fn exec(db: &impl ConnectionTrait, sql: &str) {
    db.execute_unprepared(sql).await.expect("seed statement");
}

/// Seeds with multi-row INSERTs in large transactions: fast, and the same rows ingest
/// would write.
async fn seed(db: &DatabaseConnection, issues: usize, events: usize) {
    let now = now_ms();
    let payload =
        encode_payload(br#"{"message":"seeded event","level":"error","platform":"rust"}"#)
            .expect("compress");
    let blob: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    let txn = db.begin().await.expect("begin");
    for chunk in (0..issues).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| {
                let status = match i % 10 {
                    0 => "resolved",
                    1 => "ignored",
                    _ => "unresolved",
                };
                let seen = now - (i % 20_000) as i64 * 60_000;
                format!(
                    "({}, 1, 'fp{i}', 'Error{}: failure number {i}', 'shop::module{}::function', 'error', '{status}', {}, {seen}, {}, {}, 'shop@1.{}', 'shop@1.{}', '{}', 0)",
                    i + 1,
                    i % 50,
                    i % 97,
                    seen - 86_400_000,
                    events / issues.max(1),
                    i % 7,
                    i % 10,
                    i % 10,
                    if i % 3 == 0 { "staging" } else { "production" },
                )
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO issue (id, project_id, fingerprint, title, culprit, level, status, first_seen, last_seen, event_count, user_count, first_release, last_release, last_environment, regression_count) VALUES {}",
                rows.join(",")
            ),
        )
        .await;
    }
    for chunk in (0..events).collect::<Vec<_>>().chunks(2000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|e| {
                let issue = e % issues.max(1);
                let at = now - (e % (14 * 1440)) as i64 * 60_000;
                format!(
                    "(1, {}, '{e:032x}', {at}, {at}, 'error', '{}', 'shop@1.{}', 'id:{}', X'{blob}')",
                    issue + 1,
                    if issue.is_multiple_of(3) { "staging" } else { "production" },
                    issue % 10,
                    e % 5000,
                )
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO event (project_id, issue_id, event_id, received_at, timestamp, level, environment, release, user_key, payload) VALUES {}",
                rows.join(",")
            ),
        )
        .await;
    }
    // The environments and releases ingest would have recorded for the list's selects.
    for (kind, column) in [("environment", "environment"), ("release", "release")] {
        exec(
            &txn,
            &format!(
                "INSERT INTO filter_value (project_id, kind, value, last_seen) \
                 SELECT project_id, '{kind}', {column}, MAX(received_at) FROM event \
                 GROUP BY project_id, {column}"
            ),
        )
        .await;
    }
    txn.commit().await.expect("commit");
    exec(db, "ANALYZE").await;
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let issues: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let events: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let store = Store::connect(&url).await?;
    let project = store.create_project("shop").await?;
    assert_eq!(project.project.id, 1);
    let started = Instant::now();
    let db = Store::connect(&url).await?;
    seed(db.connection(), issues, events).await;
    eprintln!(
        "seeded {issues} issues and {events} events in {:.1?}",
        started.elapsed()
    );

    let account = mayday_collector::accounts::create_account(
        &store,
        "bench@example.com",
        None,
        "correct horse battery",
        true,
    )
    .await?;
    store
        .create_session(
            account.id,
            &mayday_collector::accounts::token_hash("bench-token"),
            "csrf",
            3_600_000,
        )
        .await?;
    let config = clap::Parser::try_parse_from(["mayday-collector", "--database-url", url.as_str()])
        .map(|cli: Cli| cli.config())?;
    let state = AppInner::new(config, store)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    let client = reqwest::Client::new();
    let pages: Vec<Page> = vec![
        ("issue list", Box::new(|_| "/projects/1/issues".to_owned())),
        (
            "issue list, environment filter",
            Box::new(|_| "/projects/1/issues?environment=staging".to_owned()),
        ),
        (
            "issue list, release + text filter",
            Box::new(|_| "/projects/1/issues?release=shop@1.3&query=Error13".to_owned()),
        ),
        (
            "issue list, sorted by events, page 5",
            Box::new(|_| "/projects/1/issues?sort=events&cursor=200".to_owned()),
        ),
        (
            "issue page (random issues)",
            Box::new(move |i| format!("/projects/1/issues/{}", (i * 7919) % issues + 1)),
        ),
    ];
    println!("| page | p50 | p95 | max |");
    println!("|---|---:|---:|---:|");
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(REQUESTS);
        for i in 0..REQUESTS + 20 {
            let began = Instant::now();
            let response = client
                .get(format!("{base}{}", path(i)))
                .header("cookie", "mayday_session=bench-token")
                .send()
                .await?;
            assert_eq!(response.status(), 200, "{name}");
            let body = response.text().await?;
            assert!(body.contains("</html>"));
            if i >= 20 {
                times.push(began.elapsed());
            }
        }
        times.sort();
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
            times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3),
        );
    }
    Ok(())
}
