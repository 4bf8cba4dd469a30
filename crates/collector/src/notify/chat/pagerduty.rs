//! PagerDuty Events API v2: `trigger` with the issue as `dedup_key` (so each alert
//! about one issue joins its one incident), `payload.summary` (at most 1,024
//! characters), `source`, `severity` from the issue's level, `links` to the issue;
//! `resolve` with the same key when the issue is resolved. Plain text throughout.

use serde_json::{Value, json};

use crate::encode::capped;
use crate::notify::facts::Facts;
use crate::store::NotificationKind;

/// The incident's key for an issue: the same for every alert and for the resolve.
pub fn dedup_key(issue_id: i64) -> String {
    format!("mayday-issue-{issue_id}")
}

/// The event for `facts` (a `resolve` for [`NotificationKind::Resolved`]).
pub fn body(routing_key: &str, facts: &Facts) -> Value {
    if facts.kind == NotificationKind::Resolved {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key(facts.issue_id),
        });
    }
    let severity = match facts.level.as_str() {
        "fatal" => "critical",
        "warning" => "warning",
        "info" | "debug" => "info",
        _ => "error",
    };
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(facts.issue_id),
        "payload": {
            "summary": capped(&format!("{} ({})", facts.headline(), facts.scope()), 1024),
            "source": capped(facts.url.as_deref().or(facts.server_name.as_deref()).unwrap_or(&facts.project), 255),
            "severity": severity,
            "component": facts.culprit.as_deref().map(|c| capped(c, 255)),
            "group": facts.project,
            "class": capped(&facts.title, 255),
            "custom_details": {
                "user": facts.who(),
                "environment": facts.environment,
                "release": facts.release,
                "users": facts.user_count,
                "events": facts.event_count,
            },
        },
        "links": [{"href": facts.link, "text": "Open the issue"}],
        "client": "Mayday",
        "client_url": facts.link,
    })
}
