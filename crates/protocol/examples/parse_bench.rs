//! How long reading an event takes, against reading the same text as a plain
//! `serde_json::Value` tree (the baseline, in the same run): the collector reads every
//! event it stores, and the event's frames are most of it.
//!
//!     cargo run --release -p mayday-protocol --example parse_bench

use std::hint::black_box;
use std::time::{Duration, Instant};

use mayday_protocol::Event;

/// The ingest benchmark's event: about 5 KiB, 40 frames, as an SDK sends it.
fn event_text() -> Vec<u8> {
    let frames: Vec<serde_json::Value> = (0..40)
        .map(|f| {
            serde_json::json!({
                "function": format!("tokio::runtime::task::poll_{f}"),
                "module": "tokio::runtime::task",
                "filename": format!("src/module{f}.rs"),
                "lineno": 10 + f,
                "in_app": f == 39,
            })
        })
        .collect();
    let event = serde_json::json!({
        "event_id": "0123456789abcdef0123456789abcdef",
        "level": "error",
        "platform": "rust",
        "release": "shop@1.4.2",
        "environment": "production",
        "user": {"id": "7", "email": "user7@example.com"},
        "request": {"method": "POST", "url": "https://shop.example/checkout", "headers": {"User-Agent": "Mozilla/5.0"}},
        "exception": {"values": [{"type": "PaymentError", "value": "card declined", "stacktrace": {"frames": frames}}]},
        "tags": {"region": "eu-west-1", "tenant": "tenant-3"},
    });
    serde_json::to_vec(&event).expect("a JSON value writes")
}

/// Mean time per call of `f`, over at least `budget`.
fn per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        calls += 100;
    }
    start.elapsed() / calls
}

fn main() {
    let text = event_text();
    let budget = Duration::from_millis(1500);
    let baseline = per_call(budget, || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&text)).ok());
    });
    let event = per_call(budget, || {
        black_box(Event::from_json(black_box(&text)).ok());
    });
    let parsed = Event::from_json(&text).expect("the event reads");
    let write = per_call(budget, || {
        black_box(serde_json::to_vec(black_box(&parsed)).ok());
    });
    println!("event of {} bytes", text.len());
    println!("| read as | us per event | against a Value tree |");
    println!("|---|---:|---:|");
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| serde_json::Value (baseline) | {:.1} | 1.00 |",
        us(baseline)
    );
    println!(
        "| mayday_protocol::Event | {:.1} | {:.2} |",
        us(event),
        us(event) / us(baseline)
    );
    println!(
        "| writing the Event back (to_vec) | {:.1} | {:.2} |",
        us(write),
        us(write) / us(baseline)
    );
}
