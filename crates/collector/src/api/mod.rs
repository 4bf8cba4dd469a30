//! The JSON API under `/api/v1`, authenticated with `Authorization: Bearer <token>`.
//!
//! A token acts for its account; [`access`](crate::access) decides what it may see.
//! Another project's issue answers 404, as if it did not exist. One file per feature
//! holds its handlers: they parse, call the domain (the same functions the UI and the
//! command line call) and answer a typed view ([`views`]). This file is only the
//! route table.

mod alert_rules;
mod audit;
mod debug_files;
mod deliveries;
mod events;
mod extract;
mod feedback;
mod issues;
pub mod monitors;
mod outreach;
mod owners;
mod people;
mod projects;
mod recipients;
mod releases;
mod sentry_dif;
mod tokens;
pub mod views;
mod webhooks;

use axum::Router;
use axum::routing::{delete, get, patch, post, put};

pub use extract::{ApiAccount, ApiPath, AppJson};

use crate::state::AppState;

/// The largest debug file one request may upload.
const DEBUG_FILE_MAX_BYTES: usize = 1 << 30;

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(projects::projects))
        .route(
            "/api/v1/projects/{project_id}",
            patch(projects::change_project),
        )
        .route(
            "/api/v1/projects/{project_id}/issues",
            get(issues::list_issues),
        )
        .route(
            "/api/v1/projects/{project_id}/issues/merge",
            post(issues::merge_issues),
        )
        .route(
            "/api/v1/issues/{issue_id}",
            get(issues::issue_detail).patch(issues::update_issue),
        )
        .route(
            "/api/v1/issues/{issue_id}/unmerge",
            post(issues::unmerge_issue),
        )
        .route("/api/v1/issues/{issue_id}/users", get(issues::issue_users))
        .route(
            "/api/v1/issues/{issue_id}/feedback",
            get(feedback::issue_feedback),
        )
        .route(
            "/api/v1/projects/{project_id}/feedback",
            get(feedback::project_feedback),
        )
        .route(
            "/api/v1/projects/{project_id}/releases",
            get(releases::list),
        )
        .route(
            "/api/v1/projects/{project_id}/releases/{version}",
            get(releases::detail),
        )
        .route(
            "/api/v1/projects/{project_id}/releases/{version}/deploys",
            post(releases::deploy),
        )
        .route(
            "/api/v1/projects/{project_id}/releases/{version}/check",
            get(releases::check),
        )
        .route(
            "/api/v1/issues/{issue_id}/events",
            get(events::issue_events),
        )
        .route(
            "/api/v1/projects/{project_id}/events/{event_id}",
            get(events::event_by_id),
        )
        .route("/api/v1/issues/{issue_id}/outreach", post(outreach::send))
        .route(
            "/api/v1/issues/{issue_id}/fix-follow-up",
            post(outreach::follow_up),
        )
        .route(
            "/api/v1/issues/{issue_id}/fix-live",
            post(outreach::fix_live),
        )
        .route(
            "/api/v1/projects/{project_id}/outreach",
            get(outreach::settings).put(outreach::save_settings),
        )
        .route(
            "/api/v1/projects/{project_id}/recipients",
            get(recipients::list_recipients)
                .post(recipients::add_recipient)
                .delete(recipients::remove_recipient),
        )
        .route(
            "/api/v1/projects/{project_id}/alert-rules",
            get(alert_rules::list).post(alert_rules::create),
        )
        .route(
            "/api/v1/projects/{project_id}/debug-files",
            get(debug_files::list).post(debug_files::upload).layer(
                // A debug file is large; the project's limit is checked as it is stored.
                axum::extract::DefaultBodyLimit::max(DEBUG_FILE_MAX_BYTES),
            ),
        )
        .route(
            "/api/v1/projects/{project_id}/debug-files/{file_id}",
            delete(debug_files::remove),
        )
        // sentry-cli debug-files upload: Sentry's chunk-upload protocol.
        .route(
            "/api/0/organizations/{org}/chunk-upload/",
            get(sentry_dif::options).post(sentry_dif::chunks).layer(
                axum::extract::DefaultBodyLimit::max(sentry_dif::MAX_REQUEST_SIZE),
            ),
        )
        .route(
            "/api/0/projects/{org}/{project}/files/difs/assemble/",
            post(sentry_dif::assemble),
        )
        .route(
            "/api/v1/projects/{project_id}/ownership",
            get(owners::ownership).put(owners::set_ownership),
        )
        .route(
            "/api/v1/projects/{project_id}/ownership/apply",
            post(owners::apply_ownership),
        )
        .route(
            "/api/v1/projects/{project_id}/ticket-template",
            put(owners::set_ticket_template),
        )
        .route("/api/v1/issues/{issue_id}/ticket", put(issues::link_ticket))
        .route(
            "/api/v1/projects/{project_id}/source-links",
            put(owners::set_source_links),
        )
        .route(
            "/api/v1/alert-rules/{rule_id}",
            get(alert_rules::detail)
                .patch(alert_rules::change)
                .delete(alert_rules::remove),
        )
        .route(
            "/api/v1/projects/{project_id}/webhooks",
            get(webhooks::list_webhooks).post(webhooks::add_webhook),
        )
        .route(
            "/api/v1/projects/{project_id}/webhooks/{webhook_id}",
            delete(webhooks::remove_webhook),
        )
        .route(
            "/api/v1/projects/{project_id}/notifications",
            get(deliveries::notifications),
        )
        .route("/api/v1/projects/{project_id}/audit", get(audit::audit_log))
        .route(
            "/api/v1/projects/{project_id}/members",
            get(people::list_members)
                .put(people::put_member)
                .delete(people::remove_member),
        )
        .route("/api/v1/account/password", post(people::change_password))
        .route("/api/v1/users", get(people::list_users))
        .route(
            "/api/v1/users/{user_id}",
            patch(people::change_user).delete(people::remove_user),
        )
        .route(
            "/api/v1/projects/{project_id}/monitors",
            get(monitors::list).post(monitors::create),
        )
        .route(
            "/api/v1/monitors/{monitor_id}",
            get(monitors::detail)
                .patch(monitors::change)
                .delete(monitors::remove),
        )
        .route(
            "/api/v1/monitors/{monitor_id}/checkins",
            get(monitors::checkins),
        )
        .route("/api/v1/tokens", get(tokens::list_tokens))
        .route("/api/v1/tokens/{token_id}", delete(tokens::revoke_token))
}
