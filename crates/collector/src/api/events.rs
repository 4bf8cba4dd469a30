//! Events over the API: an issue's, newest first, a page at a time; and one event by
//! its id (as an error page shows it) with its issue.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath};
use super::views::{EventJson, EventWithIssueJson, EventsJson, IssueJson};
use crate::access;
use crate::error::ApiError;
use crate::issues::{self, ListQuery};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct EventsQuery {
    cursor: Option<String>,
}

pub(super) async fn issue_events(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventsJson>, ApiError> {
    access::visible_issue(&state.store, &account, issue_id).await?;
    let offset = ListQuery {
        cursor: query.cursor,
        ..Default::default()
    }
    .offset()?;
    let page = issues::PAGE_SIZE;
    let mut events = state.store.issue_events(issue_id, offset, page + 1).await?;
    let next = (events.len() as u64 > page).then(|| (offset + page).to_string());
    events.truncate(page as usize);
    Ok(Json(EventsJson {
        events: events.into_iter().map(EventJson::from).collect(),
        next_cursor: next,
    }))
}

/// `GET /api/v1/projects/{id}/events/{event_id}`: the event (32 hex digits, dashes
/// allowed, or its first 8) and its issue.
pub(super) async fn event_by_id(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath((project_id, event_id)): ApiPath<(i64, String)>,
) -> Result<Json<EventWithIssueJson>, ApiError> {
    access::visible_project(&state.store, &account, project_id).await?;
    let event = match issues::find_event(&state.store, project_id, &event_id).await? {
        issues::EventLookup::Found(event) => event,
        issues::EventLookup::Ambiguous => {
            return Err(ApiError::bad_request(format!(
                "more than one event's id starts with {event_id}; give more of it"
            )));
        }
        issues::EventLookup::NotAnId => {
            return Err(ApiError::bad_request(format!(
                "{event_id:?} is not an event id (32 hex digits, or the first 8)"
            )));
        }
        issues::EventLookup::NotFound => {
            return Err(ApiError::not_found(format!("event {event_id} not found")));
        }
    };
    let issue = state
        .store
        .issue(event.issue_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("event {event_id} not found")))?;
    let stored = crate::store::StoredEvent::decode(event)?;
    Ok(Json(EventWithIssueJson {
        event: stored.into(),
        issue: IssueJson::from(issue),
    }))
}
