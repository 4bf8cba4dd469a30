//! What the people a crash hit wrote: per issue (through its events) and per project
//! (also feedback without an event), for whoever may see the project's issues.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::{ApiAccount, ApiPath};
use super::views::time;
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::entities::{FeedbackSource, feedback};

/// Most feedback answered at once.
const LIMIT: u64 = 200;

/// One piece of feedback.
#[derive(Debug, Serialize)]
pub struct FeedbackJson {
    pub id: i64,
    pub event_id: Option<String>,
    /// The issue of its event, when the event is stored.
    pub issue_id: Option<i64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub message: String,
    pub url: Option<String>,
    pub source: FeedbackSource,
    pub received_at: String,
}

impl FeedbackJson {
    fn new(row: feedback::Model, issue_id: Option<i64>) -> FeedbackJson {
        FeedbackJson {
            id: row.id,
            event_id: row.event_id,
            issue_id,
            name: row.name,
            email: row.email,
            message: row.message,
            url: row.url,
            source: row.source,
            received_at: time(row.created_at),
        }
    }
}

/// A list of feedback, newest first.
#[derive(Debug, Serialize)]
pub struct FeedbackListJson {
    pub feedback: Vec<FeedbackJson>,
}

/// `GET /api/v1/issues/{id}/feedback`.
pub(super) async fn issue_feedback(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<FeedbackListJson>, ApiError> {
    let (project, _) = access::visible_issue(&state.store, &account, issue_id).await?;
    let rows = state
        .store
        .issue_feedback(project.id, issue_id, LIMIT)
        .await?;
    Ok(Json(FeedbackListJson {
        feedback: rows
            .into_iter()
            .map(|row| FeedbackJson::new(row, Some(issue_id)))
            .collect(),
    }))
}

/// `GET /api/v1/projects/{id}/feedback`.
pub(super) async fn project_feedback(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<FeedbackListJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::View).await?;
    let rows = state.store.project_feedback(project_id, LIMIT).await?;
    Ok(Json(FeedbackListJson {
        feedback: rows
            .into_iter()
            .map(|(row, issue)| FeedbackJson::new(row, issue))
            .collect(),
    }))
}
