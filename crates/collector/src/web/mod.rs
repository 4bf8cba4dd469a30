//! The web UI: server-rendered pages (maud), sessions, CSRF-protected forms.
//!
//! One file per feature holds its handlers and its templates; this file is only the
//! route table. Shared pieces: the page frame (`layout`), how values are shown
//! (`format`), form helpers (`forms`), the stylesheet and script (`assets`, files under
//! `static/`). Every page needs a session except sign-in, first-run setup and
//! unsubscribing; another project's issue answers 404. Every value from an event is
//! escaped by the templates, and a Content-Security-Policy forbids inline script.

mod account;
mod alerts;
mod assets;
mod audit;
mod debug_files;
mod deliveries;
mod error;
mod event;
mod event_list;
mod feedback;
mod format;
mod forms;
mod issue;
mod issue_list;
mod layout;
mod monitors;
mod onboarding;
mod outreach;
pub mod preauth;
mod projects;
mod releases;
pub mod session;
mod settings;
mod sign_in;
mod triage;
mod two_factor;
mod users;

use axum::routing::{get, post};
use axum::{Router, middleware};

pub use error::WebError;

use crate::state::AppState;

/// The page a browser gets for a path nothing answers, with the UI's headers.
pub fn not_found_page() -> axum::response::Response {
    use axum::response::IntoResponse;
    layout::with_security_headers(WebError::NotFound.into_response())
}

/// The UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(projects::page))
        .route("/projects", post(projects::create))
        .route("/login", get(sign_in::login_page).post(sign_in::login))
        .route("/logout", post(sign_in::logout))
        .route("/setup", get(sign_in::setup_page).post(sign_in::setup))
        .route("/projects/{project_id}/issues", get(issue_list::page))
        .route(
            "/projects/{project_id}/issues/bulk",
            post(triage::bulk_status),
        )
        .route("/projects/{project_id}/issues/{issue_id}", get(issue::page))
        .route(
            "/projects/{project_id}/issues/{issue_id}/status",
            post(triage::change_status),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/unmerge",
            post(triage::unmerge),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/assign",
            post(triage::assign),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/ticket",
            post(triage::link_ticket),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/comments",
            post(triage::comment),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/events",
            get(event_list::page),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/events/{event_id}",
            get(issue::event_page),
        )
        .route(
            "/projects/{project_id}/events/{event_id}",
            get(issue::event_by_id),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/outreach",
            get(outreach::page).post(outreach::act),
        )
        .route(
            "/unsubscribe/{token}",
            get(outreach::unsubscribe_page).post(outreach::unsubscribe),
        )
        .route(
            "/projects/{project_id}/settings",
            get(settings::page).post(settings::change),
        )
        .route("/projects/{project_id}/audit", get(audit::page))
        .route("/projects/{project_id}/feedback", get(feedback::page))
        .route("/projects/{project_id}/releases", get(releases::list_page))
        .route(
            "/projects/{project_id}/releases/{version}",
            get(releases::release_page),
        )
        .route(
            "/projects/{project_id}/debug-files",
            get(debug_files::page).post(debug_files::change),
        )
        .route(
            "/projects/{project_id}/alerts",
            get(alerts::page).post(alerts::change),
        )
        .route(
            "/projects/{project_id}/monitors",
            get(monitors::list_page).post(monitors::create),
        )
        .route(
            "/projects/{project_id}/monitors/{monitor_id}",
            get(monitors::monitor_page).post(monitors::change),
        )
        .route(
            "/projects/{project_id}/test-event",
            post(onboarding::send_test_event),
        )
        .route("/account", get(account::page).post(account::change))
        .route(
            "/account/two-factor",
            get(two_factor::page).post(two_factor::change),
        )
        .route(
            "/login/code",
            get(two_factor::code_form).post(two_factor::code),
        )
        .route("/admin/users", get(users::page).post(users::change))
        .route("/static/mayday.css", get(assets::stylesheet))
        .route("/static/copy.js", get(assets::copy_script))
        .layer(middleware::map_response(layout::security_headers))
}
