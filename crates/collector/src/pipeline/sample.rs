//! Events the collector makes itself, recorded through the same steps as received ones
//! (normalized, grouped, committed by the writer, notifications queued): "send a test
//! event", so that a new project shows what an issue looks like, and its recipients and
//! webhooks hear about it, before any app is set up; and a sitemap run's failing pages.

use mayday_protocol::{Event, EventId};
use serde_json::json;

use super::prepare::prepare;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::project;
use crate::store::{Stored, now_ms};

/// Records a sample event in `project`, on behalf of `requested_by` (an email, named in
/// the event's message); returns what storing it did.
pub async fn record(
    state: &AppState,
    project: &project::Model,
    requested_by: &str,
) -> Result<Stored, ApiError> {
    let id = EventId::new();
    let event: Event = serde_json::from_value(json!({
        "event_id": id.to_string(),
        "level": "error",
        "platform": "rust",
        "logger": "mayday.test",
        "transaction": "GET /checkout",
        "exception": {"values": [{
            "type": "TestEvent",
            "value": format!("A test event sent from the project page by {requested_by}. Your own app's errors will show up like this one."),
            "mechanism": {"type": "test", "handled": true},
            "stacktrace": {"frames": [
                {"function": "tokio::runtime::task::harness::poll", "in_app": false},
                {"function": "shop::routes::checkout", "module": "shop::routes",
                 "filename": "src/routes.rs", "lineno": 42, "in_app": true,
                 "pre_context": ["async fn checkout(cart: Cart) -> Result<Html<String>, Reported<Error>> {"],
                 "context_line": "    let total = cart.total()?;",
                 "post_context": ["    Ok(render(total))", "}"]}
            ]}
        }]},
        "request": {"method": "GET", "url": "https://shop.example/checkout",
                    "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}},
        "user": {"id": "test-user", "email": "test-user@example.com", "name": "Test User"},
        "tags": {"mayday.test": "true"},
        "extra": {"note": "Sent by Mayday itself; resolve or ignore it when you are done."}
    }))
    .map_err(|e| ApiError::bad_request(format!("sample event: {e}")))?;
    record_internal(state, project, event).await
}

/// Records `event`, made by the collector itself (a sample, a sitemap run's failing
/// page), in `project` through the same steps as a received one.
pub async fn record_internal(
    state: &AppState,
    project: &project::Model,
    event: Event,
) -> Result<Stored, ApiError> {
    let new = prepare(state, project, event, None, now_ms())?;
    state.writer.write(new).await.map_err(|error| {
        tracing::error!(%error, "storing an event failed");
        ApiError::storage_unavailable()
    })
}
