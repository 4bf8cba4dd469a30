//! The web UI: server-rendered pages (maud), sessions, CSRF-protected forms.
//!
//! Every page needs a session except sign-in and first-run setup; another project's
//! issue answers 404. Every value from an event is escaped by the templates, and a
//! Content-Security-Policy forbids inline script.

mod account;
mod admin;
pub mod client;
mod deliveries;
mod error;
mod event_list;
mod event_view;
mod monitors;
mod onboarding;
mod outreach;
mod pages;
pub mod preauth;
pub mod session;
pub mod throttle;
mod triage;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use serde::Deserialize;

use crate::access::Need;
use crate::accounts::AccountError;
use crate::issues::{self, ListQuery};
use crate::store::entities::{issue, project};
use crate::store::{EventLinks, IssueStatus, StoreError, StoredEvent};
use crate::{AppState, access, accounts, audit};
use client::ClientAddr;
pub use error::WebError;
use preauth::FormToken;
use session::SignedIn;

/// The UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(projects))
        .route("/projects", post(create_project))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/setup", get(setup_page).post(setup))
        .route("/projects/{project_id}/issues", get(issue_list))
        .route(
            "/projects/{project_id}/issues/bulk",
            post(triage::bulk_status),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/unmerge",
            post(triage::unmerge),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/comments",
            post(triage::comment),
        )
        .route("/projects/{project_id}/issues/{issue_id}", get(issue_page))
        .route(
            "/projects/{project_id}/issues/{issue_id}/events",
            get(event_list::event_list),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/events/{event_id}",
            get(event_page),
        )
        .route(
            "/projects/{project_id}/issues/{issue_id}/status",
            post(triage::change_status),
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
            get(admin::settings_page).post(admin::change_settings),
        )
        .route("/projects/{project_id}/audit", get(admin::audit_page))
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
        .route(
            "/account",
            get(account::account_page).post(account::change_account),
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

/// A page with its status (a form shown again with what was wrong, say).
fn html_with_status(status: StatusCode, markup: maud::Markup) -> Response {
    (status, html(markup)).into_response()
}

/// Rejects a form without the session's CSRF token.
fn check_csrf(signed_in: &SignedIn, sent: &str) -> Result<(), WebError> {
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
        Err(WebError::Forbidden(
            "This form has expired or did not come from this site. Reload the page and try again.",
        ))
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// A page before sign-in, with the cookie of its form token when the browser has none.
fn preauth_page(
    state: &AppState,
    form: &FormToken,
    status: StatusCode,
    page: maud::Markup,
) -> Response {
    let mut response = html_with_status(status, page);
    if let Some(cookie) = form
        .set_cookie(state)
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if state.store.count_accounts().await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let form = FormToken::of(&headers);
    let next = preauth::safe_next(query.next.as_deref());
    let notice = query
        .expired
        .is_some()
        .then_some("Your session expired. Sign in again to go on.");
    let page = pages::login_page(&pages::SignInForm {
        csrf: &form.token,
        next: next.as_deref(),
        error: notice,
    });
    Ok(preauth_page(&state, &form, StatusCode::OK, page))
}

async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    preauth::check(&headers, &form.csrf)?;
    let next = preauth::safe_next(form.next.as_deref());
    let again = |status: StatusCode, message: &str| {
        let token = FormToken::of(&headers);
        let page = pages::login_page(&pages::SignInForm {
            csrf: &token.token,
            next: next.as_deref(),
            error: Some(message),
        });
        preauth_page(&state, &token, status, page)
    };
    // Counted before the password is checked: parallel guesses cannot slip past.
    let attempt = match state.sign_in_throttle.attempt(&form.email, addr.0) {
        Ok(attempt) => attempt,
        Err(wait) => {
            let message = format!("Too many failed sign-ins. Try again in {wait} s.");
            let mut response = again(StatusCode::TOO_MANY_REQUESTS, &message);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return Ok(response);
        }
    };
    match accounts::authenticate(&state.store, &form.email, &form.password).await? {
        Some(account) => {
            state.sign_in_throttle.succeeded(attempt);
            let cookie = session::start(&state, account.id).await?;
            let to = next.unwrap_or_else(|| "/".to_owned());
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response())
        }
        None => Ok(again(StatusCode::UNAUTHORIZED, "Wrong email or password.")),
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
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    state.store.delete_session(&signed_in.token_hash).await?;
    let cookie = session::cookie_value(&state, "", 0);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
struct SetupForm {
    #[serde(default)]
    csrf: String,
    email: String,
    #[serde(default)]
    name: String,
    password: String,
}

async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if state.store.count_accounts().await? > 0 {
        return Err(WebError::NotFound);
    }
    let form = FormToken::of(&headers);
    let page = pages::setup_page(None, &form.token);
    Ok(preauth_page(&state, &form, StatusCode::OK, page))
}

/// First run: creates the first admin account, once, and signs it in. Once an account
/// exists, setup is not there (404), whoever asks and however many ask at once.
async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if state.store.count_accounts().await? > 0 {
        return Err(WebError::NotFound);
    }
    preauth::check(&headers, &form.csrf)?;
    let created =
        accounts::create_first_admin(&state.store, &form.email, Some(&form.name), &form.password)
            .await;
    let account = match created {
        Ok(account) => account,
        Err(AccountError::Store(StoreError::Conflict(_))) => return Err(WebError::NotFound),
        Err(error) => {
            // A mistake in the form: the form again, saying what to fix.
            return match error::form_mistake(&error) {
                Some(message) => {
                    let token = FormToken::of(&headers);
                    let page = pages::setup_page(Some(&message), &token.token);
                    Ok(preauth_page(&state, &token, StatusCode::BAD_REQUEST, page))
                }
                None => Err(error.into()),
            };
        }
    };
    let cookie = session::start(&state, account.id).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

async fn projects(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, WebError> {
    render_projects(&state, &signed_in, None).await
}

async fn render_projects(
    state: &AppState,
    signed_in: &SignedIn,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let projects = access::visible_projects(&state.store, &signed_in.account).await?;
    let mut rows = Vec::with_capacity(projects.len());
    for project in projects {
        let summary = state.store.project_summary(project.id).await?;
        rows.push((project, summary));
    }
    let page = pages::projects_page(signed_in, &rows, error);
    Ok(match error {
        Some(_) => html_with_status(StatusCode::BAD_REQUEST, page),
        None => html(page),
    })
}

#[derive(Deserialize)]
struct NewProjectForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

/// Creates a project (instance admins), its first key, with its creator as a project
/// admin; shows its page, which says how to send the first event.
async fn create_project(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<NewProjectForm>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, &form.csrf)?;
    if !signed_in.account.is_admin {
        return Err(WebError::NotFound);
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return render_projects(
            &state,
            &signed_in,
            Some("A project name is 1 to 100 characters, without control characters."),
        )
        .await;
    }
    let created = match state.store.create_project(name).await {
        Ok(created) => created,
        Err(StoreError::Conflict(_)) => {
            let message = format!("A project named {name:?} exists already.");
            return render_projects(&state, &signed_in, Some(&message)).await;
        }
        Err(error) => return Err(error.into()),
    };
    let project_id = created.project.id;
    audit::add_member(
        &state.store,
        &signed_in.account,
        project_id,
        &signed_in.account.email,
        crate::store::ProjectRole::Admin,
    )
    .await?;
    Ok(Redirect::to(&format!("/projects/{project_id}/issues")).into_response())
}

async fn issue_list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let project = access::visible_project(&state.store, &signed_in.account, project_id).await?;
    let manages = access::may(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    // The tabs: open issues unless another tab is asked for.
    let filter = query.filter(Some(IssueStatus::Unresolved))?;
    let status = filter.status.unwrap_or(IssueStatus::Unresolved);
    let page = issues::list(&state.store, project_id, &filter).await?;
    let ids: Vec<i64> = page.issues.iter().map(|i| i.id).collect();
    let bars = state.store.daily_counts(&ids, 14).await?;
    let counts = state.store.status_counts(project_id).await?;
    // No issue at all yet: how to send the first event instead of an empty list.
    let first_event = if counts.is_empty() {
        let keys = state.store.project_keys(project_id).await?;
        let dsn = keys
            .iter()
            .find(|key| key.active)
            .map(|key| state.config.dsn(&key.public_key, project_id));
        Some(onboarding::first_event_box(
            project_id,
            dsn.as_deref(),
            &signed_in.csrf,
        ))
    } else {
        None
    };
    let rejected = state
        .rejections
        .last_hour(project_id, crate::store::now_ms());
    let (environments, releases) = state.store.filter_values(project_id).await?;
    Ok(html(pages::issue_list_page(&pages::ListView {
        environments: &environments,
        releases: &releases,
        counts: &counts,
        first_event,
        rejected: onboarding::rejected_notice(project_id, &rejected),
        signed_in: &signed_in,
        project: &project,
        status,
        query: &query,
        manages,
        offset: filter.offset,
        issues: &page.issues,
        bars: &bars,
        next_offset: page.next_offset,
    })))
}

async fn issue_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    let (project, issue) =
        access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    if let Some(target) = issue.merged_into {
        return Ok(
            Redirect::to(&format!("/projects/{project_id}/issues/{target}")).into_response(),
        );
    }
    let latest = state.store.issue_events(issue_id, 0, 1).await?.pop();
    render_issue(&state, &signed_in, &project, &issue, latest).await
}

async fn event_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, issue_id, event_id)): Path<(i64, i64, String)>,
) -> Result<Response, WebError> {
    let (project, issue) =
        access::visible_issue_in(&state.store, &signed_in.account, project_id, issue_id).await?;
    if let Some(target) = issue.merged_into {
        // The event moved with its issue: the link in an older email still works.
        return Ok(Redirect::to(&format!(
            "/projects/{project_id}/issues/{target}/events/{event_id}"
        ))
        .into_response());
    }
    let event = state
        .store
        .event_of_issue(issue_id, &event_id)
        .await?
        .ok_or(WebError::NotFound)?;
    render_issue(&state, &signed_in, &project, &issue, Some(event)).await
}

/// The issue page around `event` (the latest, or the one asked for).
async fn render_issue(
    state: &AppState,
    signed_in: &SignedIn,
    project: &project::Model,
    issue: &issue::Model,
    event: Option<StoredEvent>,
) -> Result<Response, WebError> {
    let users = state.store.issue_users(issue.id).await?;
    let chart = state
        .store
        .daily_counts(&[issue.id], 30)
        .await?
        .remove(&issue.id)
        .unwrap_or_default();
    let breakdown = state.store.breakdown(issue.id).await?;
    let links = match &event {
        Some(stored) => state.store.event_links(issue.id, stored.row.id).await?,
        None => EventLinks::default(),
    };
    let history = state.store.issue_history(project.id, issue.id).await?;
    let deliveries = state
        .store
        .notifications(project.id, Some(issue.id), 20)
        .await?;
    let merged = state.store.merged_into(issue.id).await?;
    let comments = state.store.comments(issue.id).await?;
    let contacted: Vec<_> = state
        .store
        .outreach_messages(issue.id)
        .await?
        .into_iter()
        .map(|(message, _)| message)
        .collect();
    let grouping = event.as_ref().map_or("", |stored| {
        crate::grouping::explain(&crate::grouping::group(&stored.event).components)
    });
    let markdown = event.as_ref().map_or_else(String::new, |stored| {
        let link = format!(
            "{}/projects/{}/issues/{}/events/{}",
            state.config.base_url(),
            project.id,
            issue.id,
            stored.row.event_id
        );
        event_view::markdown(&issue.title, &link, &stored.row, &stored.event)
    });
    Ok(html(pages::issue_page(&pages::IssueView {
        signed_in,
        project,
        issue,
        users: &users,
        event: event.as_ref(),
        chart: &chart,
        breakdown: &breakdown,
        links: &links,
        history: &history,
        grouping,
        markdown: &markdown,
        deliveries: &deliveries,
        merged: &merged,
        comments: &comments,
        contacted: &contacted,
    })))
}
