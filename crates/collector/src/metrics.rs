//! Prometheus metrics, served at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Why an event was refused.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Such as `invalid`, `too_large`, `rate_limited`, `auth`.
    pub reason: String,
}

/// What an SDK reported discarding (from `client_report` items).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Discard {
    /// Such as `queue_overflow`.
    pub reason: String,
    /// Such as `error`.
    pub category: String,
}

/// The collector's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Events stored.
    pub accepted: Counter,
    /// Events refused, by reason.
    pub rejected: Family<Reason, Counter>,
    /// Events SDKs said they discarded.
    pub client_discarded: Family<Discard, Counter>,
    /// Time from request to answer of ingest requests.
    pub ingest_seconds: Histogram,
    /// Events per committed batch.
    pub batch_size: Histogram,
    /// Database errors.
    pub database_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("mayday");
        let accepted = Counter::default();
        let rejected = Family::<Reason, Counter>::default();
        let client_discarded = Family::<Discard, Counter>::default();
        let ingest_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        let database_errors = Counter::default();
        registry.register("events_accepted", "Events stored", accepted.clone());
        registry.register(
            "events_rejected",
            "Events refused, by reason",
            rejected.clone(),
        );
        registry.register(
            "client_discarded_events",
            "Events SDKs reported discarding (client reports)",
            client_discarded.clone(),
        );
        registry.register(
            "ingest_duration_seconds",
            "Time to answer an ingest request",
            ingest_seconds.clone(),
        );
        registry.register(
            "batch_size",
            "Events per committed batch",
            batch_size.clone(),
        );
        registry.register(
            "database_errors",
            "Database errors",
            database_errors.clone(),
        );
        Metrics {
            registry,
            accepted,
            rejected,
            client_discarded,
            ingest_seconds,
            batch_size,
            database_errors,
        }
    }
}

impl Metrics {
    /// Counts one refused event.
    pub fn reject(&self, reason: &str) {
        self.rejected
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
