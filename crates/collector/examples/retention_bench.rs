//! A year of events: bytes on disk per stored event, and retention deleting a million
//! old events while ingest runs.
//!
//! ```sh
//! cargo run --release -p mayday-collector --example retention_bench
//! MAYDAY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p mayday-collector --example retention_bench   # + PostgreSQL
//! ```
//!
//! Per database: a collector on loopback (this process) stores 300 real events (the
//! ingest benchmark's, about 5 KiB each, one per issue); `MAYDAY_BENCH_EVENTS` (default
//! 1,000,000) copies of them, each with its own random event id, are then written
//! straight into `event`, received 100 days ago, and the database's growth divided by
//! their number is the bytes on disk per event (tables and indexes; each index's share
//! apart). Then 32 connections send new events while, after 3 s, retention (90 days)
//! deletes the old ones; ingest's throughput and latency before and during retention
//! are compared.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mayday_collector::store::now_ms;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

#[path = "shared/latency.rs"]
mod latency;
#[path = "shared/served.rs"]
mod served;
#[path = "shared/envelope.rs"]
mod shared;

const ISSUES: usize = 300;
const DAY_MS: i64 = 86_400_000;
/// Copies written per statement while seeding.
const SEED_CHUNK: u64 = 50_000;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn exec(db: &DatabaseConnection, sql: &str) -> anyhow::Result<()> {
    db.execute_unprepared(sql).await?;
    Ok(())
}

/// Bytes the database takes on disk: in all, and per table or index of `event`.
async fn sizes(db: &DatabaseConnection) -> anyhow::Result<(i64, Vec<(String, i64)>)> {
    let statement = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    if db.get_database_backend() == DbBackend::Sqlite {
        exec(db, "PRAGMA wal_checkpoint(TRUNCATE)").await?;
        let total = served::number(
            db,
            "SELECT (page_count - freelist_count) * page_size AS n \
             FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
        )
        .await?;
        // `dbstat` is there when SQLite was built with it; without, the total only.
        let parts = db
            .query_all(statement(
                "SELECT name, CAST(SUM(pgsize) AS BIGINT) AS n FROM dbstat \
                 WHERE name = 'event' OR name LIKE 'event\\_%' ESCAPE '\\' GROUP BY name",
            ))
            .await
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| Some((r.try_get("", "name").ok()?, r.try_get("", "n").ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        return Ok((total, parts));
    }
    let total = served::number(db, "SELECT pg_database_size(current_database()) AS n").await?;
    let parts = db
        .query_all(statement(
            "SELECT 'event (table and TOAST)'::text AS name, \
                    pg_table_size('event'::regclass) AS n \
             UNION ALL \
             SELECT c.relname::text, pg_relation_size(c.oid) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'event'::regclass",
        ))
        .await?
        .iter()
        .filter_map(|r| Some((r.try_get("", "name").ok()?, r.try_get("", "n").ok()?)))
        .collect();
    Ok((total, parts))
}

/// Writes `count` copies of the stored events, received from 100 days ago on (a
/// millisecond apart), each with a random event id.
async fn seed(db: &DatabaseConnection, count: u64) -> anyhow::Result<()> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    let old = now_ms() - 100 * DAY_MS;
    exec(db, "DROP TABLE IF EXISTS seed_template").await?;
    exec(
        db,
        "CREATE TABLE seed_template AS SELECT \
         CAST(row_number() OVER (ORDER BY id) - 1 AS BIGINT) AS k, project_id, issue_id, \
         level, environment, release, user_key, payload FROM event",
    )
    .await?;
    let templates = served::number(db, "SELECT COUNT(*) AS n FROM seed_template").await?;
    anyhow::ensure!(templates > 0, "no events stored to copy");
    let mut from = 0;
    while from < count {
        let to = (from + SEED_CHUNK).min(count);
        let (series, id) = if sqlite {
            (
                format!(
                    "WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n \
                     WHERE i < {}) SELECT i FROM n",
                    to - 1
                ),
                "lower(hex(randomblob(16)))",
            )
        } else {
            (
                format!("SELECT generate_series({from}, {}) AS i", to - 1),
                "md5(random()::text || n.i::text)",
            )
        };
        exec(
            db,
            &format!(
                "INSERT INTO event (project_id, issue_id, event_id, received_at, timestamp, \
                 level, environment, release, user_key, payload) \
                 SELECT t.project_id, t.issue_id, {id}, {old} + n.i, {old} + n.i, t.level, \
                 t.environment, t.release, t.user_key, t.payload \
                 FROM ({series}) AS n JOIN seed_template t ON t.k = n.i % {templates}"
            ),
        )
        .await?;
        from = to;
    }
    exec(db, "DROP TABLE seed_template").await?;
    Ok(())
}

/// Acknowledged events: when each was sent (ms from the start) and how long it took.
type Acks = Vec<(f64, Duration)>;

/// Sends new events from 32 connections until `stop`.
async fn load(base: String, key: String, project_id: i64, stop: Arc<AtomicBool>) -> Acks {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..1024)
            .map(|i| shared::envelope(i, ISSUES, &"f".repeat(32)))
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .unwrap_or_default();
    let ids = Arc::new(AtomicU64::new(1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..32 {
        let url = format!("{base}/api/{project_id}/envelope/");
        let auth = format!("Sentry sentry_version=7, sentry_key={key}");
        let (client, stop, bodies, ids) =
            (client.clone(), stop.clone(), bodies.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut acks = Acks::new();
            let mut i = connection;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("{:032x}", ids.fetch_add(1, Ordering::Relaxed));
                let body = String::from_utf8_lossy(&bodies[i % bodies.len()])
                    .replace(&"f".repeat(32), &id);
                i += 32;
                let at = started.elapsed();
                let sent = Instant::now();
                if let Ok(response) = client
                    .post(&url)
                    .header("x-sentry-auth", &auth)
                    .body(body)
                    .send()
                    .await
                    && response.status() == 200
                {
                    let _ = response.bytes().await;
                    acks.push((at.as_secs_f64() * 1000.0, sent.elapsed()));
                }
            }
            acks
        }));
    }
    let mut all = Acks::new();
    for task in tasks {
        if let Ok(mut acks) = task.await {
            all.append(&mut acks);
        }
    }
    all
}

/// Events per second, p50 and p99 (ms) of the acknowledgements sent within `[from, to)` ms.
fn window(acks: &Acks, from: f64, to: f64) -> (f64, f64, f64) {
    let mut latencies: Vec<Duration> = acks
        .iter()
        .filter(|(at, _)| *at >= from && *at < to)
        .map(|(_, latency)| *latency)
        .collect();
    latencies.sort();
    let percentile = |p: f64| latency::percentile_ms(&latencies, p);
    let seconds = ((to - from) / 1000.0).max(0.001);
    (
        latencies.len() as f64 / seconds,
        percentile(0.5),
        percentile(0.99),
    )
}

async fn bench(name: &str, url: &str, events: u64) -> anyhow::Result<()> {
    let served::Served {
        store,
        project_id,
        key,
        base,
        server,
    } = served::serve(url, "shop", &[]).await?;

    // The real events, one per issue.
    let client = reqwest::Client::new();
    for i in 0..ISSUES {
        let body = shared::envelope(i, ISSUES, &format!("{:032x}", u64::MAX - i as u64));
        let response = client
            .post(format!("{base}/api/{project_id}/envelope/"))
            .header(
                "x-sentry-auth",
                format!("Sentry sentry_version=7, sentry_key={key}"),
            )
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "event {i}: {}", response.status());
    }
    let db = store.connection();
    let (before, _) = sizes(db).await?;
    let seeding = Instant::now();
    seed(db, events).await?;
    let seeded_in = seeding.elapsed().as_secs_f64();
    let (after, parts) = sizes(db).await?;
    let per_event = (after - before) as f64 / events as f64;
    println!(
        "{name}: {events} events seeded in {seeded_in:.0} s; {per_event:.0} bytes on disk per event ({} MiB for these)",
        (after - before) / (1 << 20)
    );
    for (part, bytes) in &parts {
        println!(
            "    {part}: {:.0} bytes per event",
            *bytes as f64 / (events + ISSUES as u64) as f64
        );
    }

    // Retention under load: 3 s of ingest alone, then retention, then 2 s more.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let generator = tokio::spawn(load(base, key, project_id, stop.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let from = started.elapsed().as_secs_f64() * 1000.0;
    let deleted = store.apply_retention(1_000_000_000, 90 * DAY_MS).await?;
    let to = started.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let acks = generator.await?;
    server.abort();
    let (rate_before, p50_before, p99_before) = window(&acks, 0.0, from);
    let (rate_during, p50_during, p99_during) = window(&acks, from, to);
    println!(
        "| {name} | {deleted} | {:.1} | {:.0} | {rate_before:.0} | {p50_before:.1} | {p99_before:.1} | {rate_during:.0} | {p50_during:.1} | {p99_during:.1} |",
        (to - from) / 1000.0,
        deleted as f64 / ((to - from) / 1000.0),
    );
    let left = served::number(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM event WHERE received_at < {}",
            now_ms() - 90 * DAY_MS
        ),
    )
    .await?;
    anyhow::ensure!(left == 0, "{left} old events left after retention");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: u64 = env("MAYDAY_BENCH_EVENTS", 1_000_000);
    println!(
        "| database | deleted | seconds | deleted/s | ingest before: events/s | p50 ms | p99 ms | during retention: events/s | p50 ms | p99 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    bench("SQLite", &sqlite, events).await?;
    if let Ok(admin) = std::env::var("MAYDAY_BENCH_POSTGRES_URL") {
        let name = format!("mayday_retention_bench_{}", std::process::id());
        let server = sea_orm::Database::connect(&admin).await?;
        exec(&server, &format!("CREATE DATABASE {name}")).await?;
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => anyhow::bail!("MAYDAY_BENCH_POSTGRES_URL needs a database name"),
        };
        let result = bench("PostgreSQL", &url, events).await;
        exec(
            &server,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
        result?;
    }
    Ok(())
}
