//! The benchmarks' event: about 5 KiB, as an SDK would send it, in one of `groups`
//! issues (shared by `ingest_bench` and `retention_bench`).

/// An envelope of one event, `i`-th of the run, with id `event_id` (32 hex digits).
pub fn envelope(i: usize, groups: usize, event_id: &str) -> Vec<u8> {
    let group = i % groups;
    let frames: Vec<serde_json::Value> = (0..40)
        .map(|f| {
            serde_json::json!({
                "function": if f == 39 { format!("shop::module{group}::handler") } else { format!("tokio::runtime::task::poll_{f}") },
                "module": if f == 39 { format!("shop::module{group}") } else { "tokio::runtime::task".to_owned() },
                "filename": format!("src/module{f}.rs"),
                "lineno": 10 + f,
                "in_app": f == 39,
            })
        })
        .collect();
    let event = serde_json::json!({
        "event_id": event_id,
        "level": "error",
        "platform": "rust",
        "release": "shop@1.4.2",
        "environment": "production",
        "user": {"id": (i % 1000).to_string(), "email": format!("user{}@example.com", i % 1000)},
        "request": {"method": "POST", "url": "https://shop.example/checkout", "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}},
        "exception": {"values": [{"type": "PaymentError", "value": format!("card declined for order {i}"), "stacktrace": {"frames": frames}}]},
        "tags": {"region": "eu-west-1", "tenant": format!("tenant-{}", i % 17)},
    });
    let payload = serde_json::to_vec(&event).unwrap_or_default();
    let mut out = b"{}\n".to_vec();
    out.extend_from_slice(
        format!("{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).as_bytes(),
    );
    out.extend_from_slice(&payload);
    out.push(b'\n');
    out
}
