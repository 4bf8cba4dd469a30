//! The cost of naming a stripped binary's frames at ingest.
//!
//! `cargo run --release -p mayday-collector --example symbolicate_bench [EVENTS]` builds
//! the axum demo app in release, splits its debug file off with `objcopy
//! --only-keep-debug` and strips it, runs the stripped app against a collector on
//! loopback and makes it panic once; the stored event (frames with addresses only) is
//! the input. With the debug file uploaded it then times:
//!
//! 1. the baseline: reading and writing the event's JSON once (what ingest does to
//!    every event anyway);
//! 2. cold: a new symbolicator (empty cache folder) naming the event: the debug file
//!    read from the database, written to the cache and opened;
//! 3. warm: the same symbolicator naming the event EVENTS times (default 1,000), with
//!    the process's memory before and after (`VmRSS`, `VmHWM`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mayday_collector::cli::Cli;
use mayday_collector::pipeline::symbolicate::Symbolicator;
use mayday_collector::store::entities::event;
use mayday_collector::store::{Store, decode_event};
use mayday_collector::{AppInner, router};
use mayday_protocol::Event;
use sea_orm::EntityTrait;

fn status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The axum demo built in release: (stripped copy, its debug file).
fn stripped_app(dir: &std::path::Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "axum-app",
            "--message-format=json",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(output.status.success(), "the demo app builds");
    let binary = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| anyhow::anyhow!("no executable built"))?;
    let debug = dir.join("axum-app.debug");
    let stripped = dir.join("axum-app");
    for args in [
        vec![
            "--only-keep-debug".as_ref(),
            binary.as_os_str(),
            debug.as_os_str(),
        ],
        vec![
            "--strip-all".as_ref(),
            binary.as_os_str(),
            stripped.as_os_str(),
        ],
    ] {
        anyhow::ensure!(
            Command::new("objcopy").args(&args).status()?.success(),
            "objcopy"
        );
    }
    Ok((stripped, debug))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::args().nth(1).map_or(Ok(1000), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let (stripped, debug) = stripped_app(dir.path())?;
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let store = Store::connect(&url).await?;
    let project = store.create_project("shop").await?;
    let key = project.keys[0].public_key.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cli = <Cli as clap::Parser>::try_parse_from([
        "mayday-collector",
        "--database-url",
        &url,
        "--listen",
        &addr.to_string(),
    ])?;
    let state = AppInner::new(cli.config(), store.clone())?;
    let app = router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // One panic of the stripped app: the input.
    let dsn = format!("http://{key}@{addr}/{}", project.project.id);
    let mut child = Command::new(&stripped)
        .env("MAYDAY_DSN", &dsn)
        .env("PORT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let base = loop {
        let line = lines.next().expect("the app starts")?;
        if let Some(at) = line
            .find("http://")
            .filter(|_| line.starts_with("demo shop"))
        {
            break line[at..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    reqwest::Client::new()
        .get(format!("{base}/panic"))
        .header("x-demo-user", "42:jane@example.com:Jane Doe")
        .send()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let input: Event = loop {
        let row = event::Entity::find().one(store.connection()).await?;
        if let Some(row) = row {
            break decode_event(&row)?;
        }
        anyhow::ensure!(Instant::now() < deadline, "the event arrives");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    let bytes = std::fs::read(&debug)?;
    mayday_collector::debug_files::upload(
        &store,
        mayday_collector::audit::Actor::Cli,
        project.project.id,
        "axum-app.debug",
        &bytes,
        1 << 30,
    )
    .await?;
    let unnamed = input
        .exceptions()
        .iter()
        .filter_map(|e| e.stacktrace.as_ref())
        .flat_map(|s| s.frames.iter())
        .filter(|f| f.function.is_none())
        .count();

    // The baseline: the event's JSON read and written, once per event.
    let json = serde_json::to_vec(&input)?;
    let mut baseline = Vec::new();
    for _ in 0..events {
        let start = Instant::now();
        let event: Event = serde_json::from_slice(&json)?;
        std::hint::black_box(serde_json::to_vec(&event)?);
        baseline.push(start.elapsed());
    }
    baseline.sort();

    // Cold: five new symbolicators, each with an empty cache folder.
    let mut cold = Vec::new();
    for round in 0..5 {
        let symbolicator = Symbolicator::new(dir.path().join(format!("cold-{round}")));
        let mut event = input.clone();
        let start = Instant::now();
        let outcome = symbolicator
            .symbolicate(&store, project.project.id, &mut event)
            .await?;
        cold.push(start.elapsed());
        anyhow::ensure!(outcome.resolved > 0, "frames named");
    }
    cold.sort();

    // Warm: one symbolicator, many events.
    let symbolicator = Symbolicator::new(dir.path().join("warm"));
    symbolicator
        .symbolicate(&store, project.project.id, &mut input.clone())
        .await?;
    let rss_before = status("VmRSS:");
    let mut warm = Vec::new();
    let mut named = 0;
    for _ in 0..events {
        let mut event = input.clone();
        let start = Instant::now();
        named = symbolicator
            .symbolicate(&store, project.project.id, &mut event)
            .await?
            .resolved;
        warm.push(start.elapsed());
    }
    warm.sort();
    let rss_after = status("VmRSS:");
    let peak = status("VmHWM:");

    println!(
        "input: one panic of the stripped axum demo, {unnamed} frames with an address only; debug file {} bytes; {named} frames named per event\n",
        bytes.len()
    );
    println!("| what | runs | p50 | p99 | max | note |");
    println!("|---|---:|---:|---:|---:|---|");
    for (what, runs, note) in [
        (
            "baseline: the event's JSON read and written",
            &baseline,
            "".to_owned(),
        ),
        (
            "cold: new symbolicator, empty cache",
            &cold,
            "file read from SQLite, written, opened".to_owned(),
        ),
        (
            "warm: the same symbolicator",
            &warm,
            format!(
                "{:.0} times the baseline (p50)",
                percentile(&warm, 0.5).as_secs_f64() / percentile(&baseline, 0.5).as_secs_f64()
            ),
        ),
    ] {
        println!(
            "| {what} | {} | {} | {} | {} | {note} |",
            runs.len(),
            ms(percentile(runs, 0.5)),
            ms(percentile(runs, 0.99)),
            ms(*runs.last().expect("runs")),
        );
    }
    println!(
        "\nmemory: VmRSS {} MiB before the warm runs, {} MiB after; peak (VmHWM) {} MiB",
        rss_before / 1024,
        rss_after / 1024,
        peak / 1024
    );
    Ok(())
}
