//! An issue's events over the API, newest first, a page at a time.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::extract::{ApiAccount, ApiPath};
use super::views::{EventJson, EventsJson};
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
