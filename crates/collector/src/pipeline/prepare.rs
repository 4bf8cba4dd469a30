//! Turning a received event into what the store keeps: normalized (event id, time,
//! level, when it was received), grouped, column values made safe (length, NUL, a time
//! within reason), compressed. Runs on the request's task, never on the writer.

use axum::http::StatusCode;
use mayday_protocol::{Event, Level, Timestamp};

use crate::encode::first_chars;
use crate::error::ApiError;
use crate::grouping;
use crate::state::AppState;
use crate::store::entities::project;
use crate::store::{EventUser, NewEvent, encode_payload};

/// Normalizes, groups and compresses one event.
///
/// `sent` is the JSON the event was read from, when nothing has changed the event since:
/// it is stored as it is. What normalization adds (the event's id, time and level when
/// the sender left them out) goes into the row, and readers fill it back in
/// (`store::decode_event`). An event the collector changed, or made, is written anew.
pub fn prepare(
    state: &AppState,
    project: &project::Model,
    mut event: Event,
    sent: Option<&[u8]>,
    now: i64,
) -> Result<NewEvent, ApiError> {
    let project_id = project.id;
    let timestamp = event
        .timestamp
        .unwrap_or_else(|| Timestamp::from_datetime(chrono::Utc::now()));
    event.timestamp = Some(timestamp);
    event.level = Some(event.level.unwrap_or(Level::Error));
    let grouping = grouping::group(&event);
    let subject = crate::ownership::rules::Subject::of(&event);
    let written;
    let json = match sent {
        Some(sent) => sent,
        None => {
            written = serde_json::to_vec(&event).map_err(|e| {
                state.metrics.reject("invalid");
                ApiError::bad_request(format!("event cannot be stored: {e}"))
            })?;
            &written[..]
        }
    };
    let payload = encode_payload(json).map_err(|e| {
        tracing::error!(error = %e, "compressing an event failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cannot store events right now",
        )
    })?;
    Ok(NewEvent {
        project_id,
        event_id: event.event_id.unwrap_or_default().to_string(),
        received_at: now,
        timestamp: ordering_time(timestamp, now),
        level: event.level.unwrap_or(Level::Error).into(),
        environment: event.environment.as_deref().map(|e| text(e, 256)),
        release: event.release.as_deref().map(|r| text(r, 256)),
        user: event_user(&event),
        fingerprint: grouping.fingerprint,
        title: text(&grouping.title, 1000),
        culprit: grouping.culprit.as_deref().map(|c| text(c, 1000)),
        payload,
        tags: searchable(&event),
        paths: subject.paths,
        modules: subject.modules,
        url: subject.url,
        ownership: project.ownership_rules.as_deref().map(std::sync::Arc::from),
    })
}

/// Tags kept per event for search, and the longest key and value kept (characters).
const MAX_TAGS: usize = 20;
const MAX_TAG_KEY: usize = 64;
const MAX_TAG_VALUE: usize = 200;

/// The event's tags and its message (under `message`), capped, for the search box.
fn searchable(event: &Event) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = event
        .tags
        .iter()
        .flatten()
        .take(MAX_TAGS)
        .map(|(key, value)| (text(key, MAX_TAG_KEY), text(value, MAX_TAG_VALUE)))
        .filter(|(key, value)| !key.is_empty() && !value.is_empty())
        .collect();
    if let Some(message) = event.message_text() {
        tags.push(("message".into(), text(message, MAX_TAG_VALUE)));
    }
    tags
}

/// Text for a column: at most `max` characters, without NUL (PostgreSQL refuses it in
/// text, and nothing shows it anyway). The payload keeps the original.
fn text(value: &str, max: usize) -> String {
    if value.contains('\0') {
        value.chars().filter(|c| *c != '\0').take(max).collect()
    } else {
        first_chars(value, max).to_owned()
    }
}

/// How far an event's own time may be from when it was received, for ordering (a wrong
/// clock must not pin an issue's "last seen" in the future or the distant past).
const EARLIEST_MS: i64 = 30 * 24 * 3600 * 1000;
const LATEST_MS: i64 = 60 * 1000;

/// The time an event is ordered by: its own, within [received - 30 days, received +
/// 1 minute]. The payload keeps the time the sender gave.
fn ordering_time(timestamp: Timestamp, received_ms: i64) -> i64 {
    let ms = timestamp.0 * 1000.0;
    let ms = if ms.is_finite() {
        ms as i64
    } else {
        received_ms
    };
    ms.clamp(received_ms - EARLIEST_MS, received_ms + LATEST_MS)
}

/// The affected user, keyed by id, else email, else username, else IP.
fn event_user(event: &Event) -> Option<EventUser> {
    let user = event.user.as_ref()?;
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(|s| text(s.trim(), 256))
            .filter(|s| !s.is_empty())
    };
    let (id, email, username, ip) = (
        clean(&user.id),
        clean(&user.email),
        clean(&user.username),
        clean(&user.ip_address),
    );
    let key = id
        .as_ref()
        .map(|v| format!("id:{v}"))
        .or_else(|| {
            email
                .as_ref()
                .map(|v| format!("email:{}", v.to_lowercase()))
        })
        .or_else(|| username.as_ref().map(|v| format!("username:{v}")))
        .or_else(|| ip.as_ref().map(|v| format!("ip:{v}")))?;
    Some(EventUser {
        key,
        id,
        email,
        username,
        name: clean(&user.name),
        ip_address: ip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_text_has_no_nul_and_a_length() {
        assert_eq!(text("a\0b\0c", 10), "abc");
        assert_eq!(text("héllo wörld", 5), "héllo");
        assert_eq!(text("a\0é\0çd", 3), "aéç");
        assert_eq!(text("short", 1000), "short");
    }

    #[test]
    fn ordering_time_stays_near_the_receive_time() {
        let received = 1_800_000_000_000;
        let at = |seconds: f64| ordering_time(Timestamp(seconds), received);
        assert_eq!(at(1_800_000_000.0 - 60.0), received - 60_000);
        // Year 3000, and 1970, are brought back within bounds.
        assert_eq!(at(32_503_680_000.0), received + LATEST_MS);
        assert_eq!(at(0.0), received - EARLIEST_MS);
        assert_eq!(at(f64::NAN), received);
    }
}
