//! A new project cannot fail silently: until its first event arrives, its issue list
//! shows the DSN, the few lines that set up an axum or actix-web app, and a button that
//! records a test event (through the same path as a received one, notifications
//! included).

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::forms::check_csrf;
use super::session::SignedIn;
use crate::access::{self, Need};
use crate::pipeline;
use crate::pipeline::rejections::Rejection;
use crate::state::AppState;

/// "412 events rejected in the last hour: 400 rate limit, 12 unknown key", on the issue
/// list and the settings page, when any were.
pub(super) fn rejected_notice(project_id: i64, rejected: &[(Rejection, u64)]) -> Markup {
    let total: u64 = rejected.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return html! {};
    }
    let keys = rejected
        .iter()
        .any(|(reason, _)| *reason != Rejection::RateLimit);
    html! {
        p.notice.failed role="alert" #rejected {
            strong { (total) " " (if total == 1 { "event" } else { "events" }) " rejected in the last hour: " }
            @for (index, (reason, count)) in rejected.iter().enumerate() {
                @if index > 0 { ", " }
                (count) " " (reason)
            }
            ". "
            @if keys { "An app is sending with a DSN key this project does not accept: compare its DSN with the keys in " a href={ "/projects/" (project_id) "/settings" } { "settings" } ". " }
            @if rejected.iter().any(|(reason, _)| *reason == Rejection::RateLimit) { "The rate limit is in settings too." }
        }
    }
}

/// What a project without events shows instead of an empty list.
pub(super) fn first_event_box(project_id: i64, dsn: Option<&str>, csrf: &str) -> Markup {
    let dsn_line = dsn.unwrap_or("(no active key: create one in settings)");
    html! {
        section.onboarding #first-event {
            h2 { "Send your first event" }
            p { "This project has no events yet. Give your app its DSN:" }
            p.wrap { code { (dsn_line) } " "
                @if let Some(dsn) = dsn { button type="button" data-copy=(dsn) { "Copy DSN" } } }
            div.snippets {
                div {
                    h3 { "axum" }
                    pre { "# Cargo.toml: mayday-reporter\nMAYDAY_DSN=" (dsn_line) "\n\n"
                        "let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;\n"
                        "let _guard = reporter.guard(std::time::Duration::from_secs(2));\n"
                        "let app = Router::new() /* your routes */ .layer(reporter.layer());" }
                }
                div {
                    h3 { "actix-web" }
                    pre { "# Cargo.toml: mayday-reporter, features = [\"actix\"]\nMAYDAY_DSN=" (dsn_line) "\n\n"
                        "let reporter = mayday_reporter::Reporter::from_env(mayday_reporter::build_info!())?;\n"
                        "let _guard = reporter.guard(std::time::Duration::from_secs(2));\n"
                        "HttpServer::new(move || App::new() /* your routes */ .wrap(reporter.actix()))" }
                }
            }
            p.muted { "Official Sentry SDKs work too: give them the same DSN." }
            form method="post" action={ "/projects/" (project_id) "/test-event" } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Send a test event" }
                " " span.muted { "Records a sample crash here and notifies the project's recipients and webhooks." }
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TestEventForm {
    #[serde(default)]
    csrf: String,
}

/// Records a sample event in the project and shows its issue.
pub(super) async fn send_test_event(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(form): Form<TestEventForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::Triage).await?;
    let stored = pipeline::sample::record(&state, &project, &signed_in.account.email)
        .await
        .map_err(|_| WebError::Internal("The test event could not be stored; retry later."))?;
    Ok(Redirect::to(&format!(
        "/projects/{project_id}/issues/{}",
        stored.issue_id
    ))
    .into_response())
}
