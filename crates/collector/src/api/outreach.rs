//! Writing to affected users over the API: send a message to some or all of an issue's
//! users (members), ask for the "it's fixed" follow-up or say the fix is live, and the
//! project's outreach settings and templates (project admins).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::extract::{ApiAccount, ApiPath, AppJson};
use crate::access::{self, Need};
use crate::error::ApiError;
use crate::outreach::{self, Draft, OutreachError, Selection};
use crate::state::AppState;
use crate::store::{OutreachKind, OutreachSettings, Refusal, now_ms};

impl From<OutreachError> for ApiError {
    fn from(error: OutreachError) -> Self {
        match error {
            OutreachError::Store(error) => error.into(),
            OutreachError::Off => {
                ApiError::new(axum::http::StatusCode::CONFLICT, error.to_string())
            }
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

/// Who to write to: `"all"` or a list of user keys (`key` in the users list).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Users {
    /// `"all"`.
    Word(String),
    /// Keys.
    Keys(Vec<String>),
}

/// `POST /api/v1/issues/{id}/outreach`.
#[derive(Debug, Deserialize)]
pub struct SendBody {
    /// The subject (the project's template when absent).
    pub subject: Option<String>,
    /// The text (the project's template when absent).
    pub text: Option<String>,
    /// Who.
    pub users: Users,
}

/// A queued message.
#[derive(Debug, Serialize)]
pub struct QueuedJson {
    pub id: i64,
    pub user_key: String,
    pub email: String,
    pub subject: String,
    pub text: String,
}

/// A user not written to.
#[derive(Debug, Serialize)]
pub struct RefusedJson {
    pub user_key: String,
    pub reason: Refusal,
}

/// What a send did.
#[derive(Debug, Serialize)]
pub struct SentJson {
    pub queued: Vec<QueuedJson>,
    pub refused: Vec<RefusedJson>,
}

impl From<outreach::Outcome> for SentJson {
    fn from(outcome: outreach::Outcome) -> Self {
        SentJson {
            queued: outcome
                .queued
                .into_iter()
                .map(|m| QueuedJson {
                    id: m.id,
                    user_key: m.user_key,
                    email: m.email,
                    subject: m.subject,
                    text: m.body,
                })
                .collect(),
            refused: outcome
                .refused
                .into_iter()
                .map(|(user_key, reason)| RefusedJson { user_key, reason })
                .collect(),
        }
    }
}

pub async fn send(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
    AppJson(body): AppJson<SendBody>,
) -> Result<Json<SentJson>, ApiError> {
    let (project, issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    access::project_for(&state.store, &account, project.id, Need::Triage).await?;
    let template = Draft::of(&project, OutreachKind::Personal);
    let draft = Draft {
        subject: body.subject.unwrap_or(template.subject),
        text: body.text.unwrap_or(template.text),
    };
    let selection = match body.users {
        Users::Word(word) if word == "all" => Selection::All,
        Users::Word(other) => {
            return Err(ApiError::bad_request(format!(
                "users must be \"all\" or a list of user keys, not {other:?}"
            )));
        }
        Users::Keys(keys) => Selection::Users(keys),
    };
    let outcome = outreach::send(
        &state.store,
        &project,
        &issue,
        &account,
        OutreachKind::Personal,
        &draft,
        &selection,
        now_ms(),
    )
    .await?;
    if !outcome.queued.is_empty() {
        state.notify_wake.notify_one();
    }
    Ok(Json(outcome.into()))
}

/// Answer of the follow-up endpoints.
#[derive(Debug, Serialize)]
pub struct FollowUpJson {
    /// Whether the follow-up is waiting for the fix.
    pub waiting: bool,
    /// Messages queued now (the fix is live).
    pub queued: Option<SentJson>,
}

pub async fn follow_up(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<FollowUpJson>, ApiError> {
    let (project, issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    access::project_for(&state.store, &account, project.id, Need::Triage).await?;
    outreach::request_follow_up(&state.store, &account, &project, &issue).await?;
    Ok(Json(FollowUpJson {
        waiting: true,
        queued: None,
    }))
}

pub async fn fix_live(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(issue_id): ApiPath<i64>,
) -> Result<Json<FollowUpJson>, ApiError> {
    let (project, issue) = access::visible_issue(&state.store, &account, issue_id).await?;
    access::project_for(&state.store, &account, project.id, Need::Triage).await?;
    if state.store.fix_follow_up(issue_id).await?.is_none() {
        return Err(ApiError::not_found(
            "no follow-up was asked for this issue; POST .../fix-follow-up first",
        ));
    }
    let outcome = outreach::fix_is_live(&state.store, &project, &issue, now_ms()).await?;
    state.notify_wake.notify_one();
    Ok(Json(FollowUpJson {
        waiting: false,
        queued: outcome.map(SentJson::from),
    }))
}

/// A project's outreach settings, templates filled with the defaults where unset.
#[derive(Debug, Serialize, Deserialize)]
pub struct SettingsJson {
    pub enabled: bool,
    pub from: Option<String>,
    pub reply_to: Option<String>,
    pub weekly_limit: i64,
    pub subject: String,
    pub text: String,
    pub fixed_subject: String,
    pub fixed_text: String,
}

pub async fn settings(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
) -> Result<Json<SettingsJson>, ApiError> {
    settings_json(&state, &account, project_id).await
}

pub async fn save_settings(
    State(state): State<AppState>,
    ApiAccount(account): ApiAccount,
    ApiPath(project_id): ApiPath<i64>,
    AppJson(body): AppJson<SettingsJson>,
) -> Result<Json<SettingsJson>, ApiError> {
    access::project_for(&state.store, &account, project_id, Need::Manage).await?;
    let settings = OutreachSettings {
        enabled: body.enabled,
        from: body.from.filter(|f| !f.trim().is_empty()),
        reply_to: body.reply_to.filter(|r| !r.trim().is_empty()),
        weekly_limit: body.weekly_limit,
        subject: Some(body.subject),
        template: Some(body.text),
        fixed_subject: Some(body.fixed_subject),
        fixed_template: Some(body.fixed_text),
    };
    outreach::save_settings(&state.store, &account, project_id, settings).await?;
    settings_json(&state, &account, project_id).await
}

async fn settings_json(
    state: &AppState,
    account: &crate::store::entities::account::Model,
    project_id: i64,
) -> Result<Json<SettingsJson>, ApiError> {
    let project = access::project_for(&state.store, account, project_id, Need::Manage).await?;
    let personal = Draft::of(&project, OutreachKind::Personal);
    let fixed = Draft::of(&project, OutreachKind::Fixed);
    Ok(Json(SettingsJson {
        enabled: project.outreach_enabled,
        from: project.outreach_from,
        reply_to: project.outreach_reply_to,
        weekly_limit: project.outreach_weekly_limit,
        subject: personal.subject,
        text: personal.text,
        fixed_subject: fixed.subject,
        fixed_text: fixed.text,
    }))
}
