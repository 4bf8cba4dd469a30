//! The monitors pages of a project: the list (status, the last results as a strip,
//! uptime), one monitor (uptime over 24 h, 7 d and 30 d, response times, check-in
//! durations, its results), and for project admins the forms to create, change, pause
//! and remove monitors.

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::forms::{self, check_csrf};
use super::layout::{self, html};
use super::session::SignedIn;
use super::{WebError, format};
use crate::access::{self, Need};
use crate::monitors::input::MonitorInput;
use crate::monitors::{self, MonitorError, MonitorSpec};
use crate::state::AppState;
use crate::store::entities::{monitor, monitor_checkin, project};
use crate::store::{CheckOutcome, MonitorKind, MonitorStatus};

/// Results drawn as a strip and a chart.
const RECENT: u64 = 50;

/// Monitors listed on one page.
const PER_PAGE: usize = 100;

/// `?page=N` of the monitors page (from 1).
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ListQuery {
    page: Option<usize>,
}

/// The monitors page.
pub(super) async fn list_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let page = query.page.unwrap_or(1).max(1);
    render_list(&state, &signed_in, project_id, page, None).await
}

/// The list: failing monitors first, then by name, [`PER_PAGE`] at a time; three queries
/// for the monitors (the list, their latest results, their uptime) however many there are.
async fn render_list(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    page: usize,
    notice: Option<Result<String, String>>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::View).await?;
    let manages = access::may(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let mut all = state.store.monitors(project_id).await?;
    // Stable: by name within each group, as the store returns them.
    all.sort_by_key(|m| matches!(m.status, MonitorStatus::Ok | MonitorStatus::Pending));
    let total = all.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = page.min(pages);
    let shown: Vec<monitor::Model> = all
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let ids: Vec<i64> = shown.iter().map(|m| m.id).collect();
    let mut recent = state.store.recent_results(&ids, RECENT).await?;
    let day = state
        .store
        .uptimes(&ids, crate::store::now_ms() - 86_400_000)
        .await?;
    let rows: Vec<_> = shown
        .into_iter()
        .map(|monitor| {
            let results = recent.remove(&monitor.id).unwrap_or_default();
            let uptime = day.get(&monitor.id).and_then(|u| u.percent());
            (monitor, results, uptime)
        })
        .collect();
    let key = state
        .store
        .project_keys(project_id)
        .await?
        .into_iter()
        .find(|k| k.active)
        .map(|k| k.public_key);
    let base = state.config.base_url();
    let body = html! {
        h1 { (project.name) ": monitors" }
        p { a href={ "/projects/" (project.id) "/issues" } { "← issues" } }
        (notice_markup(notice.as_ref()))
        @if rows.is_empty() {
            p.muted { "No monitors yet. Cron jobs appear here when they first check in; project admins add uptime checks and sitemap smoke tests below." }
        } @else {
            table.monitors {
                thead { tr { th { "Monitor" } th { "Kind" } th { "Status" } th { "Last " (RECENT) } th { "24 h" } th { "Last" } } }
                tbody { @for (monitor, recent, day) in &rows {
                    tr {
                        td.wrap { a href={ "/projects/" (project.id) "/monitors/" (monitor.id) } { (monitor.name) } }
                        td data-label="Kind" { (monitor.kind) }
                        td data-label="Status" { (status_badge(monitor)) }
                        td { (strip(recent)) }
                        td data-label="24 h" { (percent(*day)) }
                        td data-label="Last" { @match monitor.last_check_at { Some(at) => (format::when(at)), None => span.muted { "never" } } }
                    }
                } }
            }
            @if pages > 1 {
                nav.pager aria-label="Monitor pages" {
                    "Monitors " ((page - 1) * PER_PAGE + 1) "–" (((page) * PER_PAGE).min(total)) " of " (total) " "
                    @if page > 1 { a href={ "/projects/" (project.id) "/monitors?page=" (page - 1) } { "← previous" } " " }
                    @if page < pages { a href={ "/projects/" (project.id) "/monitors?page=" (page + 1) } { "next →" } }
                }
            }
        }
        @if let Some(key) = &key {
            details {
                summary { "Check in from a shell cron job" }
                p { "Send the start and the end of each run; the monitor is created by its first check-in, its schedule set on its page or by an SDK's monitor config." }
                pre.wrap { code {
                    "curl \"" (base) "/api/" (project.id) "/cron/nightly-backup/" (key) "/?status=in_progress\"\n"
                    "./backup.sh && status=ok || status=error\n"
                    "curl \"" (base) "/api/" (project.id) "/cron/nightly-backup/" (key) "/?status=$status\""
                } }
            }
        }
        @if manages { (create_forms(&project, signed_in)) }
    };
    Ok(html(layout::page(
        &format!("{} monitors", project.name),
        signed_in,
        body,
    )))
}

fn notice_markup(notice: Option<&Result<String, String>>) -> Markup {
    html! {
        @match notice {
            Some(Ok(text)) => { p.notice role="status" { (text) } }
            Some(Err(text)) => { p.notice.failed role="alert" { (text) } }
            None => {}
        }
    }
}

fn status_badge(monitor: &monitor::Model) -> Markup {
    let class = match monitor.status {
        MonitorStatus::Ok => "mon-ok",
        MonitorStatus::Pending => "mon-pending",
        _ => "mon-bad",
    };
    html! {
        span class={ "mon " (class) } { (monitor.status) }
        @if monitor.paused { " " span.muted { "(paused)" } }
    }
}

fn percent(value: Option<f64>) -> Markup {
    match value {
        Some(value) => html! { (format!("{value:.2}")) "%" },
        None => html! { span.muted { "–" } },
    }
}

fn outcome_colour(outcome: CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Ok => "#1a7f37",
        CheckOutcome::InProgress => "#9a6700",
        CheckOutcome::Error | CheckOutcome::Missed | CheckOutcome::Timeout => "#cf222e",
    }
}

/// The results as a strip of bars, oldest first (SVG: the page's CSP allows no inline
/// style).
fn strip(recent: &[monitor_checkin::Model]) -> Markup {
    let width = 6 * RECENT as usize;
    let oldest = recent.last().map(|row| row.started_at);
    let newest = recent.first().map(|row| row.started_at);
    html! {
        figure.strip {
            // Stretched to the box's width: as readable on a phone as on a desktop.
            svg.strip width="100%" height="16" viewBox={ "0 0 " (width) " 16" } preserveAspectRatio="none" role="img" aria-label={ (recent.len()) " recent results, oldest first" } {
                @for (index, row) in recent.iter().rev().enumerate() {
                    rect x=(index * 6) y="0" width="4" height="16" fill=(outcome_colour(row.status)) {
                        title { (describe(row)) }
                    }
                }
            }
            @if let (Some(oldest), Some(newest)) = (oldest, newest) {
                div.x-axis aria-hidden="true" { span { (format::when(oldest)) } span { (format::when(newest)) } }
            }
        }
    }
}

fn describe(row: &monitor_checkin::Model) -> String {
    let when = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(row.started_at)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let mut text = format!("{when}: {}", row.status);
    if let Some(ms) = row.duration_ms {
        text.push_str(&format!(", {ms} ms"));
    }
    if let Some(error) = &row.error {
        text.push_str(&format!(", {error}"));
    }
    text
}

/// Durations (response times, run times) of the results as a line, oldest first, with
/// its scale (0 to the longest) and its time span as text beside it, so that the labels
/// stay readable whatever width the line is drawn at.
fn chart(recent: &[monitor_checkin::Model]) -> Markup {
    let points: Vec<(usize, i64)> = recent
        .iter()
        .rev()
        .enumerate()
        .filter_map(|(i, row)| row.duration_ms.map(|ms| (i, ms)))
        .collect();
    let Some(max) = points.iter().map(|(_, ms)| *ms).max() else {
        return html! { p.muted { "No durations yet." } };
    };
    let (width, height) = (600.0_f64, 120.0_f64);
    let step = width / (RECENT as f64 - 1.0).max(1.0);
    let scale = if max > 0 {
        (height - 4.0) / max as f64
    } else {
        0.0
    };
    let line: Vec<String> = points
        .iter()
        .map(|(i, ms)| format!("{:.1},{:.1}", *i as f64 * step, height - *ms as f64 * scale))
        .collect();
    let oldest = recent.last().map(|row| row.started_at);
    let newest = recent.first().map(|row| row.started_at);
    html! {
        figure.chart {
            div.y-axis aria-hidden="true" { span { (max) " ms" } span { (max / 2) " ms" } span { "0" } }
            svg.chart width="100%" height="120" viewBox="0 0 600 120" preserveAspectRatio="none" role="img" aria-label={ "Durations of the last " (points.len()) " results, from 0 to " (max) " ms" } {
                line x1="0" y1="60" x2="600" y2="60" stroke="#d1d9e0" stroke-width="1" vector-effect="non-scaling-stroke" {}
                line x1="0" y1="119" x2="600" y2="119" stroke="#8c959f" stroke-width="1" vector-effect="non-scaling-stroke" {}
                polyline points=(line.join(" ")) fill="none" stroke="#0969da" stroke-width="2" vector-effect="non-scaling-stroke" {}
            }
            @if let (Some(oldest), Some(newest)) = (oldest, newest) {
                div.x-axis aria-hidden="true" { span { (format::when(oldest)) } span { (format::when(newest)) } }
            }
            figcaption.muted { "Duration of each result, oldest first" }
        }
    }
}

/// The forms that create monitors (project admins).
fn create_forms(project: &project::Model, signed_in: &SignedIn) -> Markup {
    let action = format!("/projects/{}/monitors", project.id);
    html! {
        h2 { "Add a monitor" }
        form.stack method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed_in.csrf);
            input type="hidden" name="action" value="create";
            input type="hidden" name="kind" value="http";
            h3 { "Uptime check" }
            label { span.label { "Name" } input name="name" required; }
            label { span.label { "URL" } input type="url" name="url" required placeholder="https://shop.example.com/"; }
            label { span.label { "Every (seconds)" } input type="number" name="interval_seconds" value="60" min="1"; }
            label { span.label { "Timeout (seconds)" } input type="number" name="timeout_seconds" value="10" min="1" max="120"; }
            label { span.label { "Down after failures in a row" } input type="number" name="failures" value="2" min="1"; }
            label { span.label { "Statuses that count as up" } input name="expect_status" value="200-399"; }
            label { span.label { "Text the page must contain (optional)" } input name="keyword"; }
            button type="submit" { "Add uptime check" }
        }
        form.stack method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed_in.csrf);
            input type="hidden" name="action" value="create";
            input type="hidden" name="kind" value="sitemap";
            h3 { "Sitemap smoke test" }
            label { span.label { "Name" } input name="name" required; }
            label { span.label { "Sitemap URL" } input type="url" name="url" required placeholder="https://shop.example.com/sitemap.xml"; }
            label { span.label { "Every (minutes)" } input type="number" name="interval_minutes" value="60" min="1"; }
            label { span.label { "Most pages per run" } input type="number" name="max_urls" value="500" min="1"; }
            label { span.label { "Requests at once" } input type="number" name="concurrency" value="4" min="1" max="32"; }
            button type="submit" { "Add sitemap smoke test" }
        }
    }
}

/// The fields of a monitor form as settings input: empty fields are absent, numbers
/// must be whole numbers.
fn input_from_form(fields: &[(String, String)]) -> Result<MonitorInput, String> {
    const NUMBERS: [&str; 10] = [
        "interval_seconds",
        "timeout_seconds",
        "failures",
        "interval_minutes",
        "max_urls",
        "concurrency",
        "checkin_margin",
        "max_runtime",
        "failure_issue_threshold",
        "recovery_threshold",
    ];
    const TEXTS: [&str; 7] = [
        "kind",
        "name",
        "url",
        "expect_status",
        "keyword",
        "schedule",
        "timezone",
    ];
    let mut object = serde_json::Map::new();
    for (name, value) in fields {
        let value = value.trim();
        if NUMBERS.contains(&name.as_str()) {
            if value.is_empty() {
                continue;
            }
            let number: u64 = value
                .parse()
                .map_err(|_| format!("{} must be a whole number", name.replace('_', " ")))?;
            object.insert(name.clone(), number.into());
        } else if TEXTS.contains(&name.as_str()) {
            // An emptied keyword or time zone clears it; other empty texts are absent.
            if value.is_empty() && !matches!(name.as_str(), "keyword" | "timezone") {
                continue;
            }
            object.insert(name.clone(), value.into());
        }
    }
    serde_json::from_value(object.into()).map_err(|e| e.to_string())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn refusal(error: MonitorError) -> Result<String, String> {
    match error {
        MonitorError::Store(crate::store::StoreError::Conflict(what)) => {
            Err(format!("{what} already exists; choose another name."))
        }
        MonitorError::Store(other) => Err(format!("Not saved: {other}")),
        other => Err(format!("Not saved: {other}.")),
    }
}

/// Creates a monitor (project admins).
pub(super) async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, field(&fields, "csrf").unwrap_or_default())?;
    access::project_for(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let settings = match input_from_form(&fields)
        .map_err(MonitorError::Invalid)
        .and_then(|input| input.settings(None))
    {
        Ok(settings) => settings,
        Err(error) => {
            return render_list(&state, &signed_in, project_id, 1, Some(refusal(error))).await;
        }
    };
    match monitors::create(
        &state.store,
        &signed_in.account,
        crate::monitors::MonitorRules::of(&state.config),
        project_id,
        settings,
    )
    .await
    {
        Ok(created) => Ok(
            Redirect::to(&format!("/projects/{project_id}/monitors/{}", created.id))
                .into_response(),
        ),
        Err(error) => render_list(&state, &signed_in, project_id, 1, Some(refusal(error))).await,
    }
}

/// One monitor's page.
pub(super) async fn monitor_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, monitor_id)): Path<(i64, i64)>,
) -> Result<Response, WebError> {
    render_monitor(&state, &signed_in, project_id, monitor_id, None).await
}

async fn visible_monitor(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    monitor_id: i64,
    need: Need,
) -> Result<(project::Model, monitor::Model), WebError> {
    let (project, monitor) =
        access::monitor_for(&state.store, &signed_in.account, monitor_id, need).await?;
    if project.id != project_id {
        return Err(WebError::NotFound);
    }
    Ok((project, monitor))
}

async fn render_monitor(
    state: &AppState,
    signed_in: &SignedIn,
    project_id: i64,
    monitor_id: i64,
    notice: Option<Result<String, String>>,
) -> Result<Response, WebError> {
    let (project, monitor) =
        visible_monitor(state, signed_in, project_id, monitor_id, Need::View).await?;
    let manages = access::may(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let recent = state
        .store
        .monitor_results(monitor.id, RECENT, None)
        .await?;
    let [day, week, month] = monitors::uptime(&state.store, monitor.id).await?;
    let spec = MonitorSpec::from_stored(&monitor.config).ok();
    let settings_rows = settings_rows(spec.as_ref());
    let durations = match monitor.kind {
        MonitorKind::Http => "Response times",
        MonitorKind::Cron => "Check-in durations",
        MonitorKind::Sitemap => "Run durations",
    };
    let body = html! {
        h1.wrap { (monitor.name) " " (status_badge(&monitor)) }
        p { a href={ "/projects/" (project.id) "/monitors" } { "← monitors" } }
        (notice_markup(notice.as_ref()))
        table.kv {
            tr { th { "Kind" } td { (monitor.kind) } }
            tr { th { "Slug" } td { code { (monitor.slug) } } }
            @for (label, value) in &settings_rows { tr { th { (label) } td.wrap { (value) } } }
            @if let Some(environment) = &monitor.environment { tr { th { "Environment" } td { (environment) } } }
            tr { th { "Status since" } td { (format::when(monitor.state_since)) } }
            tr { th { "Last check-in or check" } td { @match monitor.last_check_at { Some(at) => (format::when(at)), None => "never" } } }
            @if let Some(next) = monitors::next_expected(&monitor) {
                tr { th { @if monitor.kind == MonitorKind::Cron { "Next check-in expected" } @else { "Next check" } } td { (format::when(next)) } }
            }
            @if let Some(expires) = monitor.cert_expires_at { tr { th { "TLS certificate expires" } td { (format::when(expires)) } } }
            tr { th { "Uptime" } td { "24 h " (percent(day)) " · 7 d " (percent(week)) " · 30 d " (percent(month)) } }
        }
        h2 { "Last " (RECENT) " results" }
        (strip(&recent))
        h2 { (durations) }
        (chart(&recent))
        table.results {
            thead { tr { th { "When" } th { "Result" } th { "Duration" } th { "Details" } } }
            tbody { @for row in &recent {
                tr {
                    td data-label="When" { (format::when(row.started_at)) }
                    td data-label="Result" { (row.status) @if let Some(status) = row.http_status { " (HTTP " (status) ")" } }
                    td data-label="Duration" { @if let Some(ms) = row.duration_ms { (ms) " ms" } }
                    td.wrap {
                        @if let Some(error) = &row.error { (error) }
                        @if let Some(summary) = row.summary.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()) {
                            " " (summary["checked"]) " pages checked, " (summary["failed"]) " failed"
                            @if let Some(slowest) = summary["slowest"].as_array() {
                                "; slowest " (slowest.first().and_then(|v| v.as_str()).unwrap_or("")) " (" (slowest.get(1).map(|v| v.to_string()).unwrap_or_default()) " ms)"
                            }
                        }
                    }
                }
            } }
        }
        @if manages { (manage_forms(&project, &monitor, spec.as_ref(), signed_in)) }
    };
    Ok(html(layout::page(&monitor.name, signed_in, body)))
}

fn settings_rows(spec: Option<&MonitorSpec>) -> Vec<(&'static str, String)> {
    match spec {
        Some(MonitorSpec::Cron(cron)) => vec![
            ("Schedule", cron.describe()),
            ("Late after", format!("{} min", cron.checkin_margin)),
            ("Longest run", format!("{} min", cron.max_runtime)),
            (
                "Told after",
                format!("{} failure(s) in a row", cron.failure_issue_threshold),
            ),
        ],
        Some(MonitorSpec::Http(http)) => vec![
            ("URL", http.url.clone()),
            (
                "Every",
                format!(
                    "{} s (timeout {} s)",
                    http.interval_seconds, http.timeout_seconds
                ),
            ),
            (
                "Down after",
                format!("{} failed checks in a row", http.failures),
            ),
            ("Up when", format!("HTTP {}", http.expect_status)),
            (
                "Keyword",
                http.keyword.clone().unwrap_or_else(|| "none".into()),
            ),
        ],
        Some(MonitorSpec::Sitemap(sitemap)) => vec![
            ("Sitemap", sitemap.url.clone()),
            ("Every", format!("{} min", sitemap.interval_minutes)),
            (
                "Pages",
                format!(
                    "at most {}, {} at once",
                    sitemap.max_urls, sitemap.concurrency
                ),
            ),
        ],
        None => Vec::new(),
    }
}

fn manage_forms(
    project: &project::Model,
    monitor: &monitor::Model,
    spec: Option<&MonitorSpec>,
    signed_in: &SignedIn,
) -> Markup {
    let action = format!("/projects/{}/monitors/{}", project.id, monitor.id);
    html! {
        h2 { "Change" }
        form.stack method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed_in.csrf);
            input type="hidden" name="action" value="update";
            label { span.label { "Name" } input name="name" value=(monitor.name) required; }
            @match spec {
                Some(MonitorSpec::Http(http)) => {
                    label { span.label { "URL" } input type="url" name="url" value=(http.url) required; }
                    label { span.label { "Every (seconds)" } input type="number" name="interval_seconds" value=(http.interval_seconds) min="1"; }
                    label { span.label { "Timeout (seconds)" } input type="number" name="timeout_seconds" value=(http.timeout_seconds) min="1" max="120"; }
                    label { span.label { "Down after failures in a row" } input type="number" name="failures" value=(http.failures) min="1"; }
                    label { span.label { "Statuses that count as up" } input name="expect_status" value=(http.expect_status.to_string()); }
                    label { span.label { "Text the page must contain" } input name="keyword" value=(http.keyword.clone().unwrap_or_default()); }
                }
                Some(MonitorSpec::Sitemap(sitemap)) => {
                    label { span.label { "Sitemap URL" } input type="url" name="url" value=(sitemap.url) required; }
                    label { span.label { "Every (minutes)" } input type="number" name="interval_minutes" value=(sitemap.interval_minutes) min="1"; }
                    label { span.label { "Most pages per run" } input type="number" name="max_urls" value=(sitemap.max_urls) min="1"; }
                    label { span.label { "Requests at once" } input type="number" name="concurrency" value=(sitemap.concurrency) min="1" max="32"; }
                }
                Some(MonitorSpec::Cron(cron)) => {
                    @let crontab = match &cron.schedule {
                        Some(mayday_protocol::Schedule::Crontab { value }) => value.clone(),
                        _ => String::new(),
                    };
                    label { span.label { "Crontab (empty keeps " (cron.describe()) ")" } input name="schedule" value=(crontab) placeholder="0 2 * * *"; }
                    label { span.label { "Time zone" } input name="timezone" value=(cron.timezone.clone().unwrap_or_default()) placeholder="UTC"; }
                    label { span.label { "Late after (minutes)" } input type="number" name="checkin_margin" value=(cron.checkin_margin) min="0"; }
                    label { span.label { "Longest run (minutes)" } input type="number" name="max_runtime" value=(cron.max_runtime) min="1"; }
                    label { span.label { "Tell after failures in a row" } input type="number" name="failure_issue_threshold" value=(cron.failure_issue_threshold) min="1"; }
                }
                None => {}
            }
            button type="submit" { "Save" }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed_in.csrf);
            @if monitor.paused {
                input type="hidden" name="action" value="resume";
                button type="submit" { "Resume" }
            } @else {
                input type="hidden" name="action" value="pause";
                button type="submit" { "Pause" }
            }
        }
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed_in.csrf);
            input type="hidden" name="action" value="delete";
            button.danger type="submit" { "Remove this monitor and its results" }
        }
    }
}

/// Changes, pauses, resumes or removes a monitor (project admins).
/// What a form of the monitor page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum MonitorAction {
    Pause,
    Resume,
    Delete,
    Update,
}

pub(super) async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, monitor_id)): Path<(i64, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    check_csrf(&signed_in, field(&fields, "csrf").unwrap_or_default())?;
    let (_, monitor) =
        visible_monitor(&state, &signed_in, project_id, monitor_id, Need::Manage).await?;
    let notice = match forms::action::<MonitorAction>(field(&fields, "action").unwrap_or_default())?
    {
        action @ (MonitorAction::Pause | MonitorAction::Resume) => {
            let paused = action == MonitorAction::Pause;
            monitors::set_paused(&state.store, &signed_in.account, monitor_id, paused)
                .await
                .map_err(|e| match e {
                    MonitorError::Store(error) => WebError::from(error),
                    other => WebError::BadRequest(other.to_string()),
                })?;
            Ok(if paused {
                "Paused.".to_owned()
            } else {
                "Resumed.".to_owned()
            })
        }
        MonitorAction::Delete => {
            monitors::remove(&state.store, &signed_in.account, &monitor).await?;
            return Ok(Redirect::to(&format!("/projects/{project_id}/monitors")).into_response());
        }
        MonitorAction::Update => {
            let current = MonitorSpec::from_stored(&monitor.config)
                .map_err(|e| WebError::BadRequest(e.to_string()))?;
            let result = match input_from_form(&fields)
                .map_err(MonitorError::Invalid)
                .and_then(|input| input.settings(Some((&monitor.name, &current))))
            {
                Ok(settings) => {
                    monitors::update(
                        &state.store,
                        &signed_in.account,
                        state.config.target_policy(),
                        monitor_id,
                        settings,
                    )
                    .await
                }
                Err(error) => Err(error),
            };
            match result {
                Ok(_) => Ok("Saved.".to_owned()),
                Err(error) => refusal(error),
            }
        }
    };
    render_monitor(&state, &signed_in, project_id, monitor_id, Some(notice)).await
}
