//! The web UI: server-rendered pages (maud), sessions, CSRF-protected forms.
//!
//! Every page needs a session except sign-in and first-run setup; another project's
//! issue answers 404. Every value from an event is escaped by the templates, and a
//! Content-Security-Policy forbids inline script.

// Handlers here return the response to send on failure; a `Response` is large, and boxing
// it on every error path would only move the cost around.
#![allow(clippy::result_large_err)]

mod admin;
mod pages;
pub mod session;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::store::{IssueFilter, IssueSort, IssueStatus};
use session::{ClientAddr, SignedIn};

/// Issues per page.
const PAGE: u64 = 50;

/// The UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(projects))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/setup", get(setup_page).post(setup))
        .route("/projects/{project_id}/issues", get(issue_list))
        .route("/projects/{project_id}/issues/{issue_id}", get(issue_page))
        .route(
            "/projects/{project_id}/issues/{issue_id}/events/{event_id}",
            get(event_page),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/status",
            post(change_status),
        )
        .route(
            "/projects/{project_id}/settings",
            get(admin::settings_page).post(admin::change_settings),
        )
        .route(
            "/admin/users",
            get(admin::users_page).post(admin::change_users),
        )
        .route("/static/mayday.css", get(stylesheet))
        .route("/static/copy.js", get(copy_script))
        .layer(middleware::map_response(security_headers))
}

/// Forbids inline script and framing on every UI response.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The one script: copy buttons (`data-copy`). Served from here, as the CSP allows.
async fn copy_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        "document.querySelectorAll('[data-copy]').forEach(function (button) {\n  button.addEventListener('click', function () {\n    navigator.clipboard.writeText(button.dataset.copy).then(function () { button.textContent = 'Copied'; });\n  });\n});\n",
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLESHEET,
    )
}

fn html(markup: maud::Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A UI error page with a status.
fn error_page(status: StatusCode, message: &str) -> Response {
    (status, html(pages::message_page(status, message))).into_response()
}

fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "Not found.")
}

fn storage(error: crate::store::StoreError) -> Response {
    ApiError::from(error).into_response()
}

/// Rejects a form without the session's CSRF token.
fn check_csrf(signed_in: &SignedIn, sent: &str) -> Result<(), Response> {
    // Constant-time comparison: the token must not leak through timing.
    let expected = signed_in.csrf.as_bytes();
    let sent = sent.as_bytes();
    let same = expected.len() == sent.len()
        && expected
            .iter()
            .zip(sent)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Reload the page and try again.",
        ))
    }
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login_page(State(state): State<AppState>) -> Response {
    match state.store.count_accounts().await {
        Ok(0) => Redirect::to("/setup").into_response(),
        Ok(_) => html(pages::login_page(None)),
        Err(error) => storage(error),
    }
}

async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Some(wait) = state.sign_in_throttle.wait_seconds(&form.email, addr) {
        let message = format!(
            "Too many failed sign-ins. Try again in {} minutes.",
            (wait + 59) / 60
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            html(pages::login_page(Some(&message))),
        )
            .into_response();
    }
    let account = match state.store.account_by_email(&form.email).await {
        Ok(account) => Some(account),
        Err(crate::store::StoreError::NotFound(_)) => None,
        Err(error) => return storage(error),
    };
    // Verify against a hash either way, so that unknown emails take as long.
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$zcEhNnQkDd7G3NQXvNwqkpG6P0mS1vxjv4KZyHNcqVQ".into());
    let valid = session::verify_password(&hash, &form.password);
    match account {
        Some(account) if valid => {
            state.sign_in_throttle.succeeded(&form.email);
            match session::start_session(&state, account.id).await {
                Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
                Err(error) => storage(error),
            }
        }
        _ => {
            state.sign_in_throttle.failed(&form.email, addr);
            (
                StatusCode::UNAUTHORIZED,
                html(pages::login_page(Some("Wrong email or password."))),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(response) = check_csrf(&signed_in, &form.csrf) {
        return response;
    }
    if let Err(error) = state.store.delete_session(&signed_in.token_hash).await {
        return storage(error);
    }
    let cookie = session::cookie_value(&state, "", 0);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
struct SetupForm {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
}

async fn setup_page(State(state): State<AppState>) -> Response {
    match state.store.count_accounts().await {
        Ok(0) => html(pages::setup_page(None)),
        Ok(_) => Redirect::to("/login").into_response(),
        Err(error) => storage(error),
    }
}

/// First run: creates the first admin account, once, and signs it in.
async fn setup(State(state): State<AppState>, Form(form): Form<SetupForm>) -> Response {
    match state.store.count_accounts().await {
        Ok(0) => {}
        Ok(_) => {
            return error_page(
                StatusCode::FORBIDDEN,
                "Setup is already done; sign in instead.",
            );
        }
        Err(error) => return storage(error),
    }
    if crate::cli::check_email(&form.email).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            html(pages::setup_page(Some("That is not an email address."))),
        )
            .into_response();
    }
    if form.password.chars().count() < 8 {
        return (
            StatusCode::BAD_REQUEST,
            html(pages::setup_page(Some(
                "The password needs at least 8 characters.",
            ))),
        )
            .into_response();
    }
    let hash = match crate::cli::hash_password(&form.password) {
        Ok(hash) => hash,
        Err(_) => {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Could not hash the password.",
            );
        }
    };
    let name = Some(form.name.trim()).filter(|n| !n.is_empty());
    let account = match state
        .store
        .create_account(&form.email, name, &hash, true)
        .await
    {
        Ok(account) => account,
        Err(error) => return storage(error),
    };
    match session::start_session(&state, account.id).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
        Err(error) => storage(error),
    }
}

async fn projects(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    let projects = match state.store.visible_projects(&signed_in.account).await {
        Ok(projects) => projects,
        Err(error) => return storage(error),
    };
    let mut rows = Vec::with_capacity(projects.len());
    for project in projects {
        let summary = match state.store.project_summary(project.id).await {
            Ok(summary) => summary,
            Err(error) => return storage(error),
        };
        rows.push((project, summary));
    }
    html(pages::projects_page(&signed_in, &rows))
}

/// Query parameters of the issue list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Tab.
    pub status: Option<String>,
    /// Environment filter.
    pub environment: Option<String>,
    /// Release filter.
    pub release: Option<String>,
    /// Text search.
    pub query: Option<String>,
    /// Order.
    pub sort: Option<String>,
    /// Page.
    pub cursor: Option<u64>,
}

async fn visible_project(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
) -> Result<crate::store::entities::project::Model, Response> {
    match state.store.can_see(&signed_in.account, project_id).await {
        Ok(true) => {}
        Ok(false) => return Err(not_found()),
        Err(error) => return Err(storage(error)),
    }
    match state.store.project(project_id).await {
        Ok(Some(project)) => Ok(project),
        Ok(None) => Err(not_found()),
        Err(error) => Err(storage(error)),
    }
}

async fn issue_list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Response {
    let project = match visible_project(&state, &signed_in, project_id).await {
        Ok(project) => project,
        Err(response) => return response,
    };
    let status = query
        .status
        .as_deref()
        .and_then(|s| s.parse::<IssueStatus>().ok())
        .unwrap_or(IssueStatus::Unresolved);
    let sort = match query.sort.as_deref() {
        Some("first_seen") => IssueSort::FirstSeen,
        Some("events") => IssueSort::Events,
        Some("users") => IssueSort::Users,
        _ => IssueSort::LastSeen,
    };
    let offset = query.cursor.unwrap_or(0);
    let filter = IssueFilter {
        status: Some(status),
        environment: query.environment.clone().filter(|e| !e.is_empty()),
        release: query.release.clone().filter(|r| !r.is_empty()),
        query: query.query.clone(),
        sort,
        offset,
        limit: PAGE + 1,
    };
    let mut issues = match state.store.list_issues(project_id, &filter).await {
        Ok(issues) => issues,
        Err(error) => return storage(error),
    };
    let more = issues.len() as u64 > PAGE;
    issues.truncate(PAGE as usize);
    let ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    let bars = match state.store.daily_counts(&ids, 14).await {
        Ok(bars) => bars,
        Err(error) => return storage(error),
    };
    html(pages::issue_list_page(
        &signed_in, &project, status, &query, &issues, &bars, more,
    ))
}

async fn visible_issue(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    issue_id: i64,
) -> Result<
    (
        crate::store::entities::project::Model,
        crate::store::entities::issue::Model,
    ),
    Response,
> {
    let project = visible_project(state, signed_in, project_id).await?;
    match state.store.issue(issue_id).await {
        Ok(Some(issue)) if issue.project_id == project_id => Ok((project, issue)),
        Ok(_) => Err(not_found()),
        Err(error) => Err(storage(error)),
    }
}

async fn issue_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
) -> Response {
    let (project, issue) = match visible_issue(&state, &signed_in, project_id, issue_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let latest = match state.store.issue_events(issue_id, 0, 1).await {
        Ok(mut events) => events.pop(),
        Err(error) => return storage(error),
    };
    render_issue(&state, &signed_in, &project, &issue, latest).await
}

async fn event_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id, event_id)): Path<(i64, i64, String)>,
) -> Response {
    let (project, issue) = match visible_issue(&state, &signed_in, project_id, issue_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let event = match state.store.event_of_issue(issue_id, &event_id).await {
        Ok(Some(event)) => event,
        Ok(None) => return not_found(),
        Err(error) => return storage(error),
    };
    render_issue(&state, &signed_in, &project, &issue, Some(event)).await
}

/// The issue page around `event` (the latest, or the one asked for).
async fn render_issue(
    state: &AppState,
    signed_in: &SignedIn,
    project: &crate::store::entities::project::Model,
    issue: &crate::store::entities::issue::Model,
    event: Option<(crate::store::entities::event::Model, serde_json::Value)>,
) -> Response {
    let users = match state.store.issue_users(issue.id).await {
        Ok(users) => users,
        Err(error) => return storage(error),
    };
    let chart = match state.store.daily_counts(&[issue.id], 30).await {
        Ok(mut counts) => counts.remove(&issue.id).unwrap_or_default(),
        Err(error) => return storage(error),
    };
    let (releases, environments) = match state.store.breakdown(issue.id).await {
        Ok(breakdown) => breakdown,
        Err(error) => return storage(error),
    };
    let links = match &event {
        Some((row, _)) => match state.store.event_links(issue.id, row.id).await {
            Ok(links) => links,
            Err(error) => return storage(error),
        },
        None => crate::store::EventLinks::default(),
    };
    html(pages::issue_page(&pages::IssueView {
        signed_in,
        project,
        issue,
        users: &users,
        event: event.as_ref(),
        chart: &chart,
        releases: &releases,
        environments: &environments,
        links: &links,
    }))
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    csrf: String,
    status: String,
}

async fn change_status(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
    Form(form): Form<StatusForm>,
) -> Response {
    if let Err(response) = check_csrf(&signed_in, &form.csrf) {
        return response;
    }
    if let Err(response) = visible_issue(&state, &signed_in, project_id, issue_id).await {
        return response;
    }
    let Ok(status) = form.status.parse::<IssueStatus>() else {
        return error_page(StatusCode::BAD_REQUEST, "Unknown status.");
    };
    match state.store.set_issue_status(issue_id, status).await {
        Ok(_) => Redirect::to(&format!("/projects/{project_id}/issues/{issue_id}")).into_response(),
        Err(error) => storage(error),
    }
}
