//! Ingest throughput and latency, and memory under an unauthenticated flood.
//!
//! ```sh
//! cargo run --release -p mayday-collector --example ingest_bench              # SQLite and a null endpoint
//! MAYDAY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p mayday-collector --example ingest_bench          # + PostgreSQL, two collectors
//! ```
//!
//! Each server runs in a process of its own (this program, started again with `serve`
//! or `null`), so that its peak memory (`VmHWM`) is its own; the load generator runs in
//! this process, on the same machine: one event of about 5 KiB per envelope request, as
//! SDKs send them, from 300 distinct issues, over `MAYDAY_BENCH_CONNECTIONS` keep-alive
//! connections (default 32) for `MAYDAY_BENCH_SECONDS` (default 10). An event counts once
//! the collector answered 200, which it does only after the event is committed.
//!
//! Rows: the null endpoint (reads the body, answers 200: the ceiling of HTTP on this
//! machine); SQLite; PostgreSQL; two collectors on one PostgreSQL; then the SQLite
//! collector's peak memory under a flood of 1 MiB bodies with a key that does not exist.
//! After each run, the stored events are counted against the issues' counts.
//! `MAYDAY_BENCH_ONLY=sqlite` runs the SQLite row alone, `MAYDAY_BENCH_ONLY=postgres` the
//! two PostgreSQL rows alone: for comparing two binaries run one after the other.
//!
//! The headline figure is CPU per event: the collector process's user + system time
//! over the run (`/proc/<pid>/stat`) divided by the events it acknowledged; on two
//! shared cores with the generator on one of them, CPU is what bounds events/s. For
//! PostgreSQL, the server's own processes are measured apart (every process named
//! `postgres` on the machine).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use mayday_collector::cli::Cli;
use mayday_collector::store::Store;
use mayday_collector::{AppInner, router};

#[path = "shared/latency.rs"]
mod latency;
#[path = "shared/envelope.rs"]
mod shared;

const GROUPS: usize = 300;

/// Where each request's own event id goes in a body (32 hex digits).
const ID_PLACEHOLDER: &str = "ffffffffffffffffffffffffffffffff";

/// A body to send: its bytes and where its event id goes.
struct Template {
    bytes: Vec<u8>,
    id_at: usize,
}

impl Template {
    fn new(bytes: Vec<u8>) -> Template {
        let id_at = bytes
            .windows(ID_PLACEHOLDER.len())
            .position(|w| w == ID_PLACEHOLDER.as_bytes())
            .unwrap_or(0);
        Template { bytes, id_at }
    }

    /// The body with event id `n`: every request a new event.
    fn with_id(&self, n: u64) -> Vec<u8> {
        let mut body = self.bytes.clone();
        let id = format!("{n:032x}");
        body[self.id_at..self.id_at + 32].copy_from_slice(id.as_bytes());
        body
    }
}

/// As the collector's binary (`src/main.rs`): mimalloc rather than the system allocator: ingest allocates and frees many small
/// buffers per event (the body, parsed fields, SQL parameters), and glibc's malloc was
/// about a sixth of the collector's CPU under load (BENCHMARKS.md, ingest). The crate's
/// `override` feature (Cargo.toml) sends the C libraries' `malloc` and `free` (SQLite's
/// page buffers and statements) to mimalloc as well.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new()?;
    match args.get(1).map(String::as_str) {
        Some("serve") => runtime.block_on(serve(&args[2], false)),
        Some("serve-sqlx") => runtime.block_on(serve(&args[2], true)),
        Some("null") => runtime.block_on(null_endpoint()),
        _ => runtime.block_on(bench()),
    }
}

/// Child: a collector on `database_url`; prints `ready <address> <key>`. With
/// `through_sqlx`, SQLite ingest goes through sqlx's connection, not the writer thread.
async fn serve(database_url: &str, through_sqlx: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let cli = Cli::try_parse_from([
        "mayday-collector",
        "--database-url",
        database_url,
        "--listen",
        &address.to_string(),
        "--rate-limit",
        "0",
    ])?;
    let mut store = Store::connect(database_url).await?;
    if through_sqlx {
        store.ingest_through_sqlx();
    }
    let projects = store.list_projects().await?;
    let key = match projects.first() {
        Some(project) => project.keys[0].public_key.clone(),
        None => store.create_project("bench").await?.keys[0]
            .public_key
            .clone(),
    };
    let state = AppInner::new(cli.config(), store)?;
    println!("ready {address} {key}");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// Child: reads each body and answers 200, nothing else.
async fn null_endpoint() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("ready {} none", listener.local_addr()?);
    let app = axum::Router::new().fallback(|body: axum::body::Bytes| async move {
        format!("{{\"id\":null,\"read\":{}}}", body.len())
    });
    axum::serve(listener, app).await?;
    Ok(())
}

/// A server process and where it listens.
struct Server {
    child: Child,
    address: String,
    key: String,
}

impl Server {
    fn start(mode: &[&str]) -> anyhow::Result<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(mode)
            .env("MAYDAY_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let mut parts = line.split_whitespace().skip(1);
        let address = parts.next().unwrap_or_default().to_owned();
        let key = parts.next().unwrap_or_default().to_owned();
        anyhow::ensure!(!address.is_empty(), "the server did not start");
        Ok(Server {
            child,
            address,
            key,
        })
    }

    /// CPU ticks (10 ms) the process has used so far.
    fn cpu(&self) -> u64 {
        cpu_ticks(self.child.id())
    }

    /// Bytes the process has handed to write system calls so far (`wchar` of
    /// `/proc/<pid>/io`): for SQLite, the log's pages, each batch's and the checkpoints'.
    fn written(&self) -> u64 {
        let io =
            std::fs::read_to_string(format!("/proc/{}/io", self.child.id())).unwrap_or_default();
        io.lines()
            .find_map(|l| l.strip_prefix("wchar:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Peak resident memory so far, in MiB.
    fn peak_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

/// CPU time (user + system) a process has used, in clock ticks of 10 ms: the kernel
/// reports `/proc/<pid>/stat` times in USER_HZ, which is 100 on Linux whatever the
/// kernel's own tick rate.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces), from field 3 on: utime is
    // field 14, stime field 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

/// CPU ticks of every process named `postgres` (the server and its backends): what
/// PostgreSQL itself spent, apart from the collector.
fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(cpu_ticks)
        .sum()
}

/// Microseconds of CPU per event: `ticks` of 10 ms over `events`.
fn us_per_event(ticks: u64, events: i64) -> f64 {
    if events <= 0 {
        return 0.0;
    }
    ticks as f64 * 10_000.0 / events as f64
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a load run measured.
struct Run {
    acknowledged: usize,
    failed: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.acknowledged as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        latency::percentile_ms(&self.latencies, p)
    }
}

/// Sends events to `servers` (round robin per connection) for the configured time.
async fn load(servers: &[&Server], bodies: &Arc<Vec<Template>>) -> Run {
    let connections: usize = env("MAYDAY_BENCH_CONNECTIONS", 32);
    let seconds: u64 = env("MAYDAY_BENCH_SECONDS", 10);
    let stop = Arc::new(AtomicBool::new(false));
    let ids = Arc::new(AtomicU64::new(1));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap_or_default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let server = servers[connection % servers.len()];
        let url = format!("http://{}/api/1/envelope/", server.address);
        let auth = format!("Sentry sentry_version=7, sentry_key={}", server.key);
        let (client, stop, bodies, ids) =
            (client.clone(), stop.clone(), bodies.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            let mut i = connection;
            while !stop.load(Ordering::Relaxed) {
                let body = bodies[i % bodies.len()].with_id(ids.fetch_add(1, Ordering::Relaxed));
                i += connections;
                let sent = Instant::now();
                let ok = match client
                    .post(&url)
                    .header("x-sentry-auth", &auth)
                    .body(body)
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
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        if let Ok((mut l, f)) = task.await {
            latencies.append(&mut l);
            failed += f;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    Run {
        acknowledged: latencies.len(),
        failed,
        seconds,
        latencies,
    }
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The stored events and the sum of the issues' counts of `database_url`.
async fn counts(database_url: &str) -> anyhow::Result<(i64, i64)> {
    use sea_orm::{ConnectionTrait, Statement};
    let store = Store::connect(database_url).await?;
    let db = store.connection();
    let one = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let events: i64 = db
        .query_one(one("SELECT COUNT(*) AS n FROM event"))
        .await?
        .map_or(Ok(0), |row| row.try_get("", "n"))?;
    let counted: i64 = db
        .query_one(one(
            "SELECT CAST(COALESCE(SUM(event_count), 0) AS BIGINT) AS n FROM issue",
        ))
        .await?
        .map_or(Ok(0), |row| row.try_get("", "n"))?;
    Ok((events, counted))
}

fn row(name: &str, run: &Run, cpu: &str, peak: f64, extra: &str) {
    println!(
        "| {name} | {:>8.0} | {cpu} | {:>6.1} | {:>6.1} | {:>5} | {:>6.0} | {extra} |",
        run.per_second(),
        run.percentile(0.5),
        run.percentile(0.99),
        run.failed,
        peak,
    );
}

async fn bench() -> anyhow::Result<()> {
    let bodies = Arc::new(
        (0..1024)
            .map(|i| Template::new(shared::envelope(i, GROUPS, ID_PLACEHOLDER)))
            .collect::<Vec<_>>(),
    );
    let size = bodies.iter().map(|t| t.bytes.len()).sum::<usize>() / bodies.len();
    println!(
        "events of {size} bytes, {GROUPS} issues, {} connections, {} s per row",
        env("MAYDAY_BENCH_CONNECTIONS", 32usize),
        env("MAYDAY_BENCH_SECONDS", 10u64)
    );
    println!();
    println!(
        "| setup | events/s | collector CPU us/event | p50 ms | p99 ms | failed | peak RSS MiB | stored = counted |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");

    // `MAYDAY_BENCH_ONLY=sqlite` (the SQLite row alone) or `postgres` (the PostgreSQL
    // rows alone), for comparing two binaries.
    let only = std::env::var("MAYDAY_BENCH_ONLY").unwrap_or_default();
    let only_sqlite = only == "sqlite";
    if only.is_empty() {
        null_row(&bodies).await?;
    }
    if only != "postgres" {
        sqlite_rows(&bodies, only_sqlite).await?;
        if only_sqlite {
            return Ok(());
        }
    }
    postgres_rows(&bodies).await
}

/// The SQLite rows: the writer thread, the flood (unless `only_sqlite`), and ingest
/// through sqlx for comparison.
async fn sqlite_rows(bodies: &Arc<Vec<Template>>, only_sqlite: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let collector = Server::start(&["serve", &sqlite])?;
    let (before, written_before) = (collector.cpu(), collector.written());
    let run = load(&[&collector], bodies).await;
    let cpu = us_per_event(collector.cpu() - before, run.acknowledged as i64);
    let written = (collector.written() - written_before) as f64 / run.acknowledged.max(1) as f64;
    // The log's length after the load: bounded, however long the load lasts.
    let log = std::fs::metadata(dir.path().join("bench.db-wal")).map_or(0, |m| m.len());
    let (events, counted) = counts(&sqlite).await?;
    row(
        "SQLite",
        &run,
        &format!("{cpu:.0}"),
        collector.peak_mib(),
        &format!("{events} = {counted}"),
    );
    println!(
        "SQLite collector wrote {:.1} KiB per event (write system calls: the log and its checkpoints); \
         its log file held {:.0} MiB at the end of the load",
        written / 1024.0,
        log as f64 / 1_048_576.0
    );
    if only_sqlite {
        return Ok(());
    }

    // A flood of 1 MiB bodies with a key that does not exist, at the SQLite collector.
    let flood = flood(&collector).await;
    println!();
    println!(
        "unauthenticated flood: {} requests of 1 MiB in {:.0} s: {} answered 4xx, {} cut off while sending, {} accepted; SQLite collector peak RSS {:.0} MiB",
        flood.sent,
        flood.seconds,
        flood.refused,
        flood.closed,
        flood.accepted,
        collector.peak_mib()
    );
    drop(collector);

    // The same, with ingest through sqlx's SQLite connection (what the writer thread
    // replaced), for comparison.
    let sqlite = format!("sqlite://{}/bench-sqlx.db?mode=rwc", dir.path().display());
    let collector = Server::start(&["serve-sqlx", &sqlite])?;
    let before = collector.cpu();
    let run = load(&[&collector], bodies).await;
    let cpu = us_per_event(collector.cpu() - before, run.acknowledged as i64);
    let (events, counted) = counts(&sqlite).await?;
    row(
        "SQLite, ingest through sqlx (comparison)",
        &run,
        &format!("{cpu:.0}"),
        collector.peak_mib(),
        &format!("{events} = {counted}"),
    );
    drop(collector);
    Ok(())
}

/// The PostgreSQL rows (one collector, then two on one database), when
/// `MAYDAY_BENCH_POSTGRES_URL` names a server.
async fn postgres_rows(bodies: &Arc<Vec<Template>>) -> anyhow::Result<()> {
    if let Ok(admin) = std::env::var("MAYDAY_BENCH_POSTGRES_URL") {
        println!();
        for (name, instances) in [("PostgreSQL", 1), ("two collectors, one PostgreSQL", 2)] {
            let url = fresh_postgres(&admin).await?;
            let servers: Vec<Server> = (0..instances)
                .map(|_| Server::start(&["serve", &url]))
                .collect::<Result<_, _>>()?;
            let refs: Vec<&Server> = servers.iter().collect();
            let cpu_of = |servers: &[Server]| servers.iter().map(Server::cpu).sum::<u64>();
            let (before, pg_before) = (cpu_of(&servers), postgres_ticks());
            let run = load(&refs, bodies).await;
            let acked = run.acknowledged as i64;
            let cpu = us_per_event(cpu_of(&servers) - before, acked);
            let pg = us_per_event(postgres_ticks().saturating_sub(pg_before), acked);
            let (events, counted) = counts(&url).await?;
            let peak = servers.iter().map(Server::peak_mib).fold(0.0, f64::max);
            row(
                name,
                &run,
                &format!("{cpu:.0} (+ PostgreSQL {pg:.0})"),
                peak,
                &format!("{events} = {counted}"),
            );
        }
    }
    Ok(())
}

/// The null endpoint's row: the ceiling of HTTP on this machine.
async fn null_row(bodies: &Arc<Vec<Template>>) -> anyhow::Result<()> {
    let null = Server::start(&["null"])?;
    let before = null.cpu();
    let run = load(&[&null], bodies).await;
    let cpu = us_per_event(null.cpu() - before, run.acknowledged as i64);
    row(
        "null endpoint",
        &run,
        &format!("{cpu:.0}"),
        null.peak_mib(),
        "",
    );
    drop(null);

    Ok(())
}

/// What a flood of unauthenticated requests got back.
struct Flood {
    sent: usize,
    refused: usize,
    closed: usize,
    accepted: usize,
    seconds: f64,
}

/// Sends 1 MiB bodies with an unknown key from 64 connections for 5 s.
async fn flood(server: &Server) -> Flood {
    let body = Arc::new(vec![b'x'; 1 << 20]);
    let url = format!("http://{}/api/1/envelope/", server.address);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let (mut refused, mut closed, mut accepted) = (0, 0, 0);
            while started.elapsed() < Duration::from_secs(5) {
                let response = client
                    .post(&url)
                    .header(
                        "x-sentry-auth",
                        "Sentry sentry_version=7, sentry_key=00000000000000000000000000000000",
                    )
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_client_error() => refused += 1,
                    Ok(_) => accepted += 1,
                    // Refused while the body was still being sent.
                    Err(_) => closed += 1,
                }
            }
            (refused, closed, accepted)
        }));
    }
    let mut totals = Flood {
        sent: 0,
        refused: 0,
        closed: 0,
        accepted: 0,
        seconds: 0.0,
    };
    for task in tasks {
        if let Ok((refused, closed, accepted)) = task.await {
            totals.refused += refused;
            totals.closed += closed;
            totals.accepted += accepted;
        }
    }
    totals.sent = totals.refused + totals.closed + totals.accepted;
    totals.seconds = started.elapsed().as_secs_f64();
    totals
}

/// A new, empty database on the PostgreSQL server of `admin_url`.
async fn fresh_postgres(admin_url: &str) -> anyhow::Result<String> {
    use sea_orm::ConnectionTrait;
    let name = format!("mayday_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}
