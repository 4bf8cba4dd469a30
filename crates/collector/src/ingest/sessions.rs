//! Release health from Sentry's `sessions` items (request-mode aggregates: per minute,
//! `exited`, `errored`, `crashed`, `abnormal`, with `attrs.release` and `environment`;
//! Mayday's reporter adds the route template as `route`) and `session` items (one
//! session's update, counted when it ends). A malformed or release-less item is
//! skipped, never refusing the envelope's events.

use mayday_protocol::Timestamp;
use serde_json::Value;

use crate::store::HealthCount;

/// The most aggregates read from one item.
const MAX_AGGREGATES: usize = 1_000;
/// The longest release, environment and route kept.
const MAX_NAME: usize = 200;

fn name(value: &Value) -> Option<String> {
    let text = value.as_str()?.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_NAME).collect())
}

fn count(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0).clamp(0, 1_000_000_000)
}

/// When a session or bucket started (ms): RFC 3339 or seconds; `now` when absent.
fn started(value: &Value, now: i64) -> i64 {
    match value {
        Value::String(_) | Value::Number(_) => serde_json::from_value::<Timestamp>(value.clone())
            .ok()
            .and_then(|t| t.to_datetime())
            .map_or(now, |t| t.timestamp_millis()),
        _ => now,
    }
}

/// The counts of a `sessions` item.
pub(super) fn aggregates(payload: &[u8], now: i64) -> Vec<HealthCount> {
    let Ok(item) = serde_json::from_slice::<Value>(payload) else {
        return Vec::new();
    };
    let attrs = &item["attrs"];
    let Some(release) = name(&attrs["release"]) else {
        return Vec::new();
    };
    let environment = name(&attrs["environment"]).unwrap_or_default();
    let route = name(&attrs["route"]).unwrap_or_default();
    item["aggregates"]
        .as_array()
        .into_iter()
        .flatten()
        .take(MAX_AGGREGATES)
        .map(|bucket| HealthCount {
            release: release.clone(),
            environment: environment.clone(),
            route: name(&bucket["route"]).unwrap_or_else(|| route.clone()),
            at: started(&bucket["started"], now),
            ok: count(&bucket["exited"]),
            errored: count(&bucket["errored"]),
            crashed: count(&bucket["crashed"]) + count(&bucket["abnormal"]),
        })
        .filter(|c| c.ok + c.errored + c.crashed > 0)
        .collect()
}

/// The count of a `session` item: one, when the session ended.
pub(super) fn session(payload: &[u8], now: i64) -> Option<HealthCount> {
    let item = serde_json::from_slice::<Value>(payload).ok()?;
    let attrs = &item["attrs"];
    let release = name(&attrs["release"])?;
    let errors = count(&item["errors"]);
    let (ok, errored, crashed) = match item["status"].as_str()? {
        "exited" if errors > 0 => (0, 1, 0),
        "exited" => (1, 0, 0),
        "errored" => (0, 1, 0),
        "crashed" | "abnormal" => (0, 0, 1),
        // Still running: counted when it ends.
        _ => return None,
    };
    Some(HealthCount {
        release,
        environment: name(&attrs["environment"]).unwrap_or_default(),
        route: name(&attrs["route"]).unwrap_or_default(),
        at: started(&item["started"], now),
        ok,
        errored,
        crashed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_and_ended_sessions_are_counted() {
        let item = br#"{"attrs":{"release":"shop@2.4.0","environment":"production"},
            "aggregates":[{"started":"2026-12-05T10:01:00Z","exited":97,"errored":3},
                          {"started":"2026-12-05T10:02:00Z","route":"POST /checkout","crashed":1,"abnormal":1},
                          {"started":"2026-12-05T10:03:00Z"}]}"#;
        let counts = aggregates(item, 0);
        assert_eq!(counts.len(), 2);
        assert_eq!(
            (counts[0].ok, counts[0].errored, counts[0].crashed),
            (97, 3, 0)
        );
        assert_eq!(counts[0].route, "");
        assert_eq!(counts[1].route, "POST /checkout");
        assert_eq!(counts[1].crashed, 2);
        assert_eq!(counts[0].at, 1_796_464_860_000);
        assert!(
            aggregates(br#"{"aggregates":[{"exited":1}]}"#, 0).is_empty(),
            "no release"
        );
        let ended = session(
            br#"{"status":"exited","errors":2,"attrs":{"release":"1.0"},"started":1.5}"#,
            0,
        )
        .unwrap();
        assert_eq!((ended.ok, ended.errored, ended.at), (0, 1, 1_500));
        assert!(session(br#"{"status":"ok","attrs":{"release":"1.0"}}"#, 0).is_none());
    }
}
