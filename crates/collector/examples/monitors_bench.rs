//! The monitors page of a project with thousands of monitors.
//!
//! `cargo run --release -p mayday-collector --example monitors_bench [MONITORS]` seeds a
//! fresh SQLite file with MONITORS cron monitors (default 2,000) in project 1, each with
//! 50 results over the last day, and 20 in project 2 (the baseline); serves the
//! collector on loopback and times each project's monitors page over real HTTP.

use std::time::Instant;

use mayday_collector::cli::Cli;
use mayday_collector::store::{Store, now_ms};
use mayday_collector::{AppInner, router};

#[path = "shared/latency.rs"]
mod latency;
use sea_orm::{ConnectionTrait, TransactionTrait};

const REQUESTS: usize = 50;

async fn exec(db: &impl ConnectionTrait, sql: &str) {
    db.execute_unprepared(sql).await.expect("seed statement");
}

/// `count` cron monitors of `project_id` from id `first`, 50 results each.
async fn seed(store: &Store, project_id: i64, first: usize, count: usize) {
    let now = now_ms();
    let config = r#"{"kind":"cron","schedule":{"type":"interval","value":1,"unit":"hour"}}"#;
    let txn = store.connection().begin().await.expect("begin");
    for chunk in (first..first + count).collect::<Vec<_>>().chunks(500) {
        let monitors: Vec<String> = chunk
            .iter()
            .map(|i| {
                let status = if i % 50 == 0 { "error" } else { "ok" };
                format!(
                    "({i}, {project_id}, 'job-{i:05}', 'job-{i:05}', 'cron', '{status}', false, \
                     '{config}', 0, 0, {}, {now}, {now}, {now}, {now})",
                    now + 3_600_000
                )
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO monitor (id, project_id, slug, name, kind, status, paused, config, \
                 consecutive_failures, consecutive_ok, next_due_at, last_check_at, state_since, \
                 created_at, updated_at) VALUES {}",
                monitors.join(",")
            ),
        )
        .await;
        let results: Vec<String> = chunk
            .iter()
            .flat_map(|i| {
                (0..50).map(move |r| {
                    let at = now - r * 1_800_000;
                    let status = if (i + r as usize).is_multiple_of(17) {
                        "error"
                    } else {
                        "ok"
                    };
                    format!("({i}, '{status}', {at}, {}, 1500)", at + 1500)
                })
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO monitor_checkin (monitor_id, status, started_at, finished_at, duration_ms) VALUES {}",
                results.join(",")
            ),
        )
        .await;
    }
    txn.commit().await.expect("commit");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args().nth(1).map_or(Ok(2_000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let store = Store::connect(&url).await?;
    store.create_project("shop").await?;
    store.create_project("small").await?;
    seed(&store, 1, 1, count).await;
    seed(&store, 2, count + 1, 20).await;
    exec(store.connection(), "ANALYZE").await;
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
    println!("| page | monitors | p50 | p95 | max | bytes |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (project, monitors) in [(2, 20), (1, count)] {
        let url = format!("{base}/projects/{project}/monitors");
        let mut times = Vec::with_capacity(REQUESTS);
        let mut bytes = 0;
        for i in 0..REQUESTS + 5 {
            let began = Instant::now();
            let response = client
                .get(&url)
                .header("cookie", "mayday_session=bench-token")
                .send()
                .await?;
            assert_eq!(response.status(), 200);
            bytes = response.bytes().await?.len();
            if i >= 5 {
                times.push(began.elapsed());
            }
        }
        times.sort();
        println!(
            "| project {project}'s monitors | {monitors} | {:.1} ms | {:.1} ms | {:.1} ms | {bytes} |",
            latency::percentile_ms(&times, 0.5),
            latency::percentile_ms(&times, 0.95),
            times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3),
        );
    }
    Ok(())
}
