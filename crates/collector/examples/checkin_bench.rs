//! Check-ins per second, and whether every state change landed.
//!
//! ```sh
//! cargo run --release -p mayday-collector --example checkin_bench
//! MAYDAY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p mayday-collector --example checkin_bench   # + PostgreSQL
//! ```
//!
//! A collector on loopback (this process), and `MAYDAY_BENCH_CONNECTIONS` (default 32)
//! keep-alive connections for `MAYDAY_BENCH_SECONDS` (default 8), each a cron job
//! runner: for one of its 8 monitors (256 in all), an envelope with an `in_progress`
//! check-in, then one with `ok` for the same run, and so on. A check-in counts once the
//! collector answered 200, which it does after the check-in is committed.
//!
//! Afterwards the database is compared with what was acknowledged: every acknowledged
//! start is a result row, every acknowledged end turned its row `ok`, and the monitors
//! number 256.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[path = "shared/latency.rs"]
mod latency;
#[path = "shared/served.rs"]
mod served;

use sea_orm::ConnectionTrait;

/// Monitors per connection.
const MONITORS_EACH: usize = 8;

#[derive(Default)]
struct Tally {
    starts: u64,
    ends: u64,
    failed: u64,
    latencies: Vec<Duration>,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn envelope(slug: &str, id: &str, status: &str) -> String {
    let item = serde_json::json!({
        "check_in_id": id, "monitor_slug": slug, "status": status, "environment": "production",
        "duration": if status == "ok" { Some(0.25) } else { None },
        "monitor_config": {"schedule": {"type": "crontab", "value": "* * * * *"},
                           "checkin_margin": 5, "max_runtime": 30},
    })
    .to_string();
    format!(
        "{{}}\n{{\"type\":\"check_in\",\"length\":{}}}\n{item}\n",
        item.len()
    )
}

/// Runs the jobs against the collector at `base` with `key`.
async fn load(base: &str, project_id: i64, key: &str) -> (Tally, f64) {
    let connections: usize = env("MAYDAY_BENCH_CONNECTIONS", 32);
    let seconds: u64 = env("MAYDAY_BENCH_SECONDS", 8);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap_or_default();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let url = format!("{base}/api/{project_id}/envelope/");
        let auth = format!("Sentry sentry_version=7, sentry_key={key}");
        let (client, stop) = (client.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut run = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let slug = format!("job-{connection:02}-{}", run % MONITORS_EACH);
                let id = format!("{connection:08x}{run:024x}");
                for status in ["in_progress", "ok"] {
                    let sent = Instant::now();
                    let ok = match client
                        .post(&url)
                        .header("x-sentry-auth", &auth)
                        .body(envelope(&slug, &id, status))
                        .send()
                        .await
                    {
                        Ok(response) => {
                            let ok = response.status() == 200;
                            let _ = response.bytes().await;
                            ok
                        }
                        Err(_) => false,
                    };
                    if !ok {
                        tally.failed += 1;
                        break;
                    }
                    tally.latencies.push(sent.elapsed());
                    if status == "ok" {
                        tally.ends += 1;
                    } else {
                        tally.starts += 1;
                    }
                }
                run += 1;
            }
            tally
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(mut tally) = task.await {
            all.starts += tally.starts;
            all.ends += tally.ends;
            all.failed += tally.failed;
            all.latencies.append(&mut tally.latencies);
        }
    }
    all.latencies.sort();
    (all, started.elapsed().as_secs_f64())
}

async fn bench(name: &str, url: &str) -> anyhow::Result<()> {
    // Room for the 256 monitors.
    let served::Served {
        store,
        project_id,
        key,
        base,
        server,
    } = served::serve(url, "crons", &["--max-monitors-per-project", "1000"]).await?;
    let (tally, seconds) = load(&base, project_id, &key).await;
    server.abort();
    let percentile = |p: f64| latency::percentile_ms(&tally.latencies, p);
    let db = store.connection();
    let rows = served::number(db, "SELECT COUNT(*) AS n FROM monitor_checkin").await?;
    let ok = served::number(
        db,
        "SELECT COUNT(*) AS n FROM monitor_checkin WHERE status = 'ok'",
    )
    .await?;
    let monitors = served::number(db, "SELECT COUNT(*) AS n FROM monitor").await?;
    let exact = rows == tally.starts as i64 && ok == tally.ends as i64;
    println!(
        "| {name} | {:>6.0} | {:>5.1} | {:>5.1} | {} | {} starts = {rows} rows, {} ends = {ok} ok, {monitors} monitors: {} |",
        (tally.starts + tally.ends) as f64 / seconds,
        percentile(0.5),
        percentile(0.99),
        tally.failed,
        tally.starts,
        tally.ends,
        if exact { "exact" } else { "NOT EXACT" },
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!(
        "{} connections, {MONITORS_EACH} monitors each, {} s per row",
        env("MAYDAY_BENCH_CONNECTIONS", 32usize),
        env("MAYDAY_BENCH_SECONDS", 8u64)
    );
    println!();
    println!("| database | check-ins/s | p50 ms | p99 ms | failed | stored against acknowledged |");
    println!("|---|---:|---:|---:|---:|---|");
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    bench("SQLite", &sqlite).await?;
    if let Ok(admin) = std::env::var("MAYDAY_BENCH_POSTGRES_URL") {
        let name = format!("mayday_checkin_bench_{}", std::process::id());
        let server = sea_orm::Database::connect(&admin).await?;
        server
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => anyhow::bail!("MAYDAY_BENCH_POSTGRES_URL needs a database name"),
        };
        let result = bench("PostgreSQL", &url).await;
        server
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        result?;
    }
    Ok(())
}
