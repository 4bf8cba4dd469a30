//! Bounded reads under abuse: the worst search a member can send, four at once, and
//! what everyone else sees meanwhile.
//!
//! `cargo run --release -p mayday-collector --example search_bench [ISSUES]` seeds a
//! fresh SQLite file with ISSUES issues (default 10,000) in project 1, each with three
//! tags and an affected user, and 1,000 issues in project 2; serves the collector on
//! loopback; and times, over real HTTP:
//!
//! 1. idle: `/healthz` and project 2's issue list page (the baseline);
//! 2. the worst search alone (see [`WORST`]);
//! 3. the same four at once, in loops, while `/healthz` and project 2's page are timed
//!    (each in a loop of its own, for six seconds);
//! 4. four loops of the worst search whose clients give up after 300 ms, the same
//!    pages timed meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mayday_collector::cli::Cli;
use mayday_collector::store::{Store, now_ms};
use mayday_collector::{AppInner, router};
use sea_orm::{ConnectionTrait, TransactionTrait};

/// The most work a search may ask for: eight words, seven found in every issue but only
/// in its tags (the last place each word is looked for, after the title, the culprit
/// and the users), the eighth found nowhere, so that every issue is searched through.
const WORST: &str = "https products production shop.example /products/ shop@1. example/ nowhere";

async fn exec(db: &impl ConnectionTrait, sql: &str) {
    db.execute_unprepared(sql).await.expect("seed statement");
}

/// `count` issues of `project_id` from id `first`, each with three tags and a user.
async fn seed(store: &Store, project_id: i64, first: usize, count: usize) {
    let now = now_ms();
    let txn = store.connection().begin().await.expect("begin");
    for chunk in (first..first + count).collect::<Vec<_>>().chunks(1000) {
        let issues: Vec<String> = chunk
            .iter()
            .map(|i| {
                let seen = now - (*i as i64 % 20_000) * 60_000;
                format!(
                    "({i}, {project_id}, 'fp{i}', 'Error{}: failure number {i}', \
                     'shop::module{}::function', 'error', 'unresolved', {}, {seen}, 3, 1, 0)",
                    i % 50,
                    i % 97,
                    seen - 86_400_000
                )
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO issue (id, project_id, fingerprint, title, culprit, level, status, \
                 first_seen, last_seen, event_count, user_count, regression_count) VALUES {}",
                issues.join(",")
            ),
        )
        .await;
        let tags: Vec<String> = chunk
            .iter()
            .flat_map(|i| {
                [
                    format!("({i}, 'release', 'shop@1.{}', {now})", i % 10),
                    format!("({i}, 'environment', 'production', {now})"),
                    format!("({i}, 'url', 'https://shop.example/products/{i}', {now})"),
                ]
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO issue_tag (issue_id, key, value, last_seen) VALUES {}",
                tags.join(",")
            ),
        )
        .await;
        let users: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "({i}, 'id:{i}', '{i}', 'user{i}@example.com', 'user{i}', 'User {i}', 1, {now}, {now})"
                )
            })
            .collect();
        exec(
            &txn,
            &format!(
                "INSERT INTO affected_user (issue_id, user_key, user_id, email, username, name, \
                 event_count, first_seen, last_seen) VALUES {}",
                users.join(",")
            ),
        )
        .await;
    }
    txn.commit().await.expect("commit");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn row(name: &str, times: &mut [Duration], note: &str) {
    times.sort();
    println!(
        "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {note} |",
        times.len(),
        percentile(times, 0.5).as_secs_f64() * 1e3,
        percentile(times, 0.99).as_secs_f64() * 1e3,
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3),
    );
}

/// Times `count` sequential GETs of `url` (200 expected).
async fn time_gets(client: &reqwest::Client, url: &str, count: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let began = Instant::now();
        let response = client
            .get(url)
            .header("cookie", "mayday_session=bench-token")
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "{url}");
        response.bytes().await.expect("body");
        times.push(began.elapsed());
    }
    times
}

/// How long each loaded phase lasts.
const PHASE: Duration = Duration::from_secs(6);

/// Times sequential GETs of `url` for `how_long`, a request every 5 ms at most.
async fn time_for(client: &reqwest::Client, url: &str, how_long: Duration) -> Vec<Duration> {
    let end = Instant::now() + how_long;
    let mut times = Vec::new();
    while Instant::now() < end {
        times.extend(time_gets(client, url, 1).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    times
}

/// Four loops of the worst search until `stop`; each answer's time and status.
fn worst_loops(
    base: &str,
    token: &str,
    give_up: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(Vec<Duration>, usize, usize)>> {
    (0..4)
        .map(|_| {
            let url = format!("{base}/api/v1/projects/1/issues");
            let token = token.to_owned();
            let stop = stop.clone();
            let mut builder = reqwest::Client::builder();
            if let Some(limit) = give_up {
                builder = builder.timeout(limit);
            }
            let client = builder.build().expect("client");
            tokio::spawn(async move {
                let (mut times, mut stopped, mut abandoned) = (Vec::new(), 0, 0);
                while !stop.load(Ordering::Relaxed) {
                    let began = Instant::now();
                    match client
                        .get(&url)
                        .bearer_auth(&token)
                        .query(&[("query", WORST)])
                        .send()
                        .await
                    {
                        Ok(response) => {
                            let status = response.status();
                            let _ = response.bytes().await;
                            if status == 200 {
                                times.push(began.elapsed());
                            } else {
                                stopped += 1;
                            }
                        }
                        Err(_) => abandoned += 1,
                    }
                }
                (times, stopped, abandoned)
            })
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let issues: usize = std::env::args().nth(1).map_or(Ok(10_000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let store = Store::connect(&url).await?;
    store.create_project("shop").await?;
    store.create_project("other").await?;
    seed(&store, 1, 1, issues).await;
    seed(&store, 2, issues + 1, 1000).await;
    exec(store.connection(), "ANALYZE").await;
    let admin = mayday_collector::accounts::create_account(
        &store,
        "bench@example.com",
        None,
        "correct horse battery",
        true,
    )
    .await?;
    store
        .create_session(
            admin.id,
            &mayday_collector::accounts::token_hash("bench-token"),
            "csrf",
            3_600_000,
        )
        .await?;
    let member = mayday_collector::accounts::create_account(
        &store,
        "member@example.com",
        None,
        "correct horse battery",
        false,
    )
    .await?;
    store
        .add_member(1, member.id, mayday_collector::store::ProjectRole::Member)
        .await?;
    let token = mayday_collector::accounts::create_api_token(&store, member.id, "bench").await?;
    let config = clap::Parser::try_parse_from(["mayday-collector", "--database-url", url.as_str()])
        .map(|cli: Cli| cli.config())?;
    let state = AppInner::new(config, store)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let client = reqwest::Client::new();
    let health = format!("{base}/healthz");
    let other = format!("{base}/projects/2/issues");
    eprintln!("seeded {issues} issues in project 1 and 1000 in project 2");

    println!("| what | requests | p50 | p99 | max | note |");
    println!("|---|---:|---:|---:|---:|---|");
    time_gets(&client, &other, 20).await;
    row(
        "idle: /healthz",
        &mut time_gets(&client, &health, 300).await,
        "baseline",
    );
    row(
        "idle: project 2's list",
        &mut time_gets(&client, &other, 100).await,
        "baseline",
    );

    let api = reqwest::Client::new();
    let mut alone = Vec::new();
    for _ in 0..22 {
        let began = Instant::now();
        let response = api
            .get(format!("{base}/api/v1/projects/1/issues"))
            .bearer_auth(&token)
            .query(&[("query", WORST)])
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        response.bytes().await?;
        alone.push(began.elapsed());
    }
    alone.drain(..2);
    row(
        "worst search, alone",
        &mut alone,
        "7 words found only in tags, 1 nowhere",
    );

    for (phase, give_up) in [
        ("4 at once", None),
        (
            "4 at once, clients give up at 300 ms",
            Some(Duration::from_millis(300)),
        ),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let loops = worst_loops(&base, &token, give_up, stop.clone());
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Both pages at once, for a while, beside the four searches.
        let (mut health_times, mut other_times) = tokio::join!(
            time_for(&client, &health, PHASE),
            time_for(&client, &other, PHASE)
        );
        stop.store(true, Ordering::Relaxed);
        let (mut worst, stopped, abandoned) =
            (Vec::new(), AtomicUsize::new(0), AtomicUsize::new(0));
        for handle in loops {
            let (times, s, a) = handle.await?;
            worst.extend(times);
            stopped.fetch_add(s, Ordering::Relaxed);
            abandoned.fetch_add(a, Ordering::Relaxed);
        }
        row(&format!("{phase}: /healthz"), &mut health_times, "");
        row(&format!("{phase}: project 2's list"), &mut other_times, "");
        row(
            &format!("{phase}: worst search"),
            &mut worst,
            &format!(
                "answered; {} stopped (503), {} given up by the client",
                stopped.load(Ordering::Relaxed),
                abandoned.load(Ordering::Relaxed)
            ),
        );
    }
    Ok(())
}
