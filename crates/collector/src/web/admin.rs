//! Project settings and account management pages.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::SignedIn;
use super::{check_csrf, error_page, html, not_found, pages, storage, visible_project};
use crate::AppState;

pub(super) async fn settings_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
) -> Response {
    let project = match visible_project(&state, &signed_in, project_id).await {
        Ok(project) => project,
        Err(response) => return response,
    };
    let keys = match state.store.project_keys(project_id).await {
        Ok(keys) => keys,
        Err(error) => return storage(error),
    };
    let recipients = match state.store.recipients(project_id).await {
        Ok(recipients) => recipients,
        Err(error) => return storage(error),
    };
    let dsns: Vec<(crate::store::entities::project_key::Model, String)> = keys
        .into_iter()
        .map(|key| {
            let dsn = state.config.dsn(&key.public_key, project_id);
            (key, dsn)
        })
        .collect();
    html(pages::settings_page(&pages::SettingsView {
        signed_in: &signed_in,
        project: &project,
        keys: &dsns,
        recipients: &recipients,
        default_rate_limit: state.config.rate_limit,
        retention_events: state.config.retention_events_per_issue,
        retention_days: state.config.retention_days,
    }))
}

#[derive(Deserialize)]
pub(super) struct SettingsForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    key_id: Option<i64>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    rate_limit: Option<i64>,
    #[serde(default)]
    spike_events: Option<i64>,
    #[serde(default)]
    spike_minutes: Option<i64>,
    #[serde(default)]
    retention_events: Option<i64>,
    #[serde(default)]
    retention_days: Option<i64>,
}

pub(super) async fn change_settings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(form): Form<SettingsForm>,
) -> Response {
    if let Err(response) = check_csrf(&signed_in, &form.csrf) {
        return response;
    }
    if let Err(response) = visible_project(&state, &signed_in, project_id).await {
        return response;
    }
    let store = &state.store;
    let result = match (form.action.as_str(), form.key_id, form.email.as_deref()) {
        ("create_key", _, _) => store.create_key(project_id).await,
        ("disable_key", Some(key), _) => store.set_key_active(project_id, key, false).await,
        ("enable_key", Some(key), _) => store.set_key_active(project_id, key, true).await,
        ("add_recipient", _, Some(email)) => {
            if crate::cli::check_email(email).is_err() {
                return error_page(StatusCode::BAD_REQUEST, "That is not an email address.");
            }
            store.add_recipient(project_id, email).await
        }
        ("remove_recipient", _, Some(email)) => {
            store.remove_recipient(project_id, email).await.map(|_| ())
        }
        ("limits", _, _) => {
            let rate = store
                .set_rate_limit_of(project_id, form.rate_limit.unwrap_or(0))
                .await;
            match rate {
                Ok(()) => {
                    store
                        .set_spike(
                            project_id,
                            form.spike_events.unwrap_or(0),
                            form.spike_minutes.unwrap_or(10),
                        )
                        .await
                }
                Err(error) => Err(error),
            }
        }
        ("retention", _, _) => {
            store
                .set_retention(
                    project_id,
                    form.retention_events.unwrap_or(0),
                    form.retention_days.unwrap_or(0),
                )
                .await
        }
        _ => return error_page(StatusCode::BAD_REQUEST, "Unknown change."),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/projects/{project_id}/settings")).into_response(),
        Err(crate::store::StoreError::NotFound(_)) => not_found(),
        Err(error) => storage(error),
    }
}

pub(super) async fn users_page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    if !signed_in.account.is_admin {
        return not_found();
    }
    let accounts = match state.store.accounts().await {
        Ok(accounts) => accounts,
        Err(error) => return storage(error),
    };
    let projects = match state.store.list_projects().await {
        Ok(projects) => projects.into_iter().map(|p| p.project).collect::<Vec<_>>(),
        Err(error) => return storage(error),
    };
    html(pages::users_page(&signed_in, &accounts, &projects, None))
}

#[derive(Deserialize)]
pub(super) struct UserForm {
    #[serde(default)]
    csrf: String,
    action: String,
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    project: Option<String>,
}

pub(super) async fn change_users(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<UserForm>,
) -> Response {
    if let Err(response) = check_csrf(&signed_in, &form.csrf) {
        return response;
    }
    if !signed_in.account.is_admin {
        return not_found();
    }
    let result = match form.action.as_str() {
        "create" => {
            if crate::cli::check_email(&form.email).is_err() {
                return error_page(StatusCode::BAD_REQUEST, "That is not an email address.");
            }
            if form.password.chars().count() < 8 {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "The password needs at least 8 characters.",
                );
            }
            let Ok(hash) = crate::cli::hash_password(&form.password) else {
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Could not hash the password.",
                );
            };
            let name = Some(form.name.trim()).filter(|n| !n.is_empty());
            state
                .store
                .create_account(&form.email, name, &hash, form.admin.is_some())
                .await
                .map(|_| ())
        }
        "add_member" => match form.project.as_deref() {
            Some(project) => state.store.add_member(project, &form.email).await,
            None => return error_page(StatusCode::BAD_REQUEST, "Choose a project."),
        },
        _ => return error_page(StatusCode::BAD_REQUEST, "Unknown change."),
    };
    match result {
        Ok(()) => Redirect::to("/admin/users").into_response(),
        Err(crate::store::StoreError::Conflict(what)) => {
            error_page(StatusCode::CONFLICT, &format!("{what} already exists."))
        }
        Err(crate::store::StoreError::NotFound(what)) => {
            error_page(StatusCode::NOT_FOUND, &format!("{what} not found."))
        }
        Err(error) => storage(error),
    }
}
