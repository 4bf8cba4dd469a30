//! `client_report` items: what SDKs say they discarded, counted in metrics by reason and
//! category. Only Sentry's known reasons and categories become series; anything else is
//! counted as `other`, so that no sender can grow the metrics without bound.

use crate::metrics::{Discard, Metrics};

/// Sentry's discard reasons (the client reports spec).
const REASONS: &[&str] = &[
    "queue_overflow",
    "cache_overflow",
    "buffer_overflow",
    "ratelimit_backoff",
    "network_error",
    "sample_rate",
    "before_send",
    "event_processor",
    "send_error",
    "internal_sdk_error",
    "insufficient_data",
    "backpressure",
    "ignored",
    "invalid",
    "no_parent_span",
    "callback_error",
];

/// Sentry's data categories.
const CATEGORIES: &[&str] = &[
    "default",
    "error",
    "transaction",
    "security",
    "attachment",
    "session",
    "profile",
    "profile_chunk",
    "replay",
    "feedback",
    "span",
    "log_item",
    "log_byte",
    "monitor",
    "metric_bucket",
    "statsd",
    "trace_metric",
    "user_report_v2",
];

/// The label for `value`: itself when `known` lists it, else `other`.
fn label(value: &str, known: &[&str]) -> String {
    if known.contains(&value) {
        value.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Counts the discarded events of a `client_report` item's `payload`.
pub(super) fn count(metrics: &Metrics, payload: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Report {
        #[serde(default)]
        discarded_events: Vec<Discarded>,
    }
    #[derive(serde::Deserialize)]
    struct Discarded {
        reason: String,
        category: String,
        quantity: u64,
    }
    let Ok(report) = serde_json::from_slice::<Report>(payload) else {
        return;
    };
    for discarded in report.discarded_events {
        metrics
            .client_discarded
            .get_or_create(&Discard {
                reason: label(&discarded.reason, REASONS),
                category: label(&discarded.category, CATEGORIES),
            })
            .inc_by(discarded.quantity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_reasons_and_categories_are_other() {
        let metrics = Metrics::default();
        for i in 0..50 {
            let payload = format!(
                r#"{{"discarded_events":[{{"reason":"made-up-{i}","category":"thing-{i}","quantity":1}},{{"reason":"sample_rate","category":"error","quantity":2}}]}}"#
            );
            count(&metrics, payload.as_bytes());
        }
        let text = metrics.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("mayday_client_discarded_events_total{"))
            .count();
        assert_eq!(series, 2, "{text}");
        assert!(
            text.contains(r#"reason="other",category="other"} 50"#),
            "{text}"
        );
        assert!(text.contains(r#"reason="sample_rate",category="error"} 100"#));
    }
}
