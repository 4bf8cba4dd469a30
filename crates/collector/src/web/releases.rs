//! A project's Releases page (each release's requests, failure and crash rates, new
//! issues, against the release before it; a chart of the last days with deploy
//! markers) and a release's page (its figures against the previous release, the
//! deploy check's verdict with its reasons, its routes worst first, its issues).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::WebError;
use super::format::{self, when};
use super::layout::{self, html};
use super::session::SignedIn;
use crate::access::{self, Need};
use crate::release_health::{
    self, Check, DeployRef, Figures, Overview, ReleaseDetail, check::Verdict, percent,
};
use crate::state::AppState;
use crate::store::entities::project;

/// `?environment=` (every environment when empty).
#[derive(Debug, Deserialize)]
pub(super) struct EnvironmentQuery {
    environment: Option<String>,
}

impl EnvironmentQuery {
    fn get(&self) -> Option<&str> {
        self.environment.as_deref().filter(|e| !e.is_empty())
    }
}

/// `GET /projects/{id}/releases`.
pub(super) async fn list_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Query(query): Query<EnvironmentQuery>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::View).await?;
    let overview = release_health::overview(&state.store, &project, query.get()).await?;
    let (environments, _) = state.store.filter_values(project_id).await?;
    Ok(html(list_markup(
        &signed_in,
        &project,
        &overview,
        &environments,
        query.get(),
    )))
}

/// `GET /projects/{id}/releases/{version}`.
pub(super) async fn release_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, version)): Path<(i64, String)>,
    Query(query): Query<EnvironmentQuery>,
) -> Result<Response, WebError> {
    let project =
        access::project_for(&state.store, &signed_in.account, project_id, Need::View).await?;
    let base_url = state.config.base_url();
    let detail =
        release_health::detail(&state.store, &project, &version, query.get(), &base_url).await?;
    let check = release_health::check(
        &state.store,
        &project,
        &version,
        None,
        query.get(),
        &base_url,
    )
    .await?;
    Ok(html(release_markup(
        &signed_in,
        &project,
        &detail,
        &check,
        query.get(),
    )))
}

fn releases_path(project: &project::Model) -> String {
    format!("/projects/{}/releases", project.id)
}

fn release_path(project: &project::Model, version: &str, environment: Option<&str>) -> String {
    let mut path = format!(
        "{}/{}",
        releases_path(project),
        crate::encode::path_segment(version)
    );
    if let Some(environment) = environment {
        path.push_str("?environment=");
        path.push_str(&crate::encode::path_segment(environment));
    }
    path
}

fn list_markup(
    signed_in: &SignedIn,
    project: &project::Model,
    overview: &Overview,
    environments: &[String],
    environment: Option<&str>,
) -> Markup {
    let issues = format!("/projects/{}/issues", project.id);
    layout::page(
        &format!("{} releases", project.name),
        signed_in,
        html! {
            p { a href=(issues) { "← " (project.name) " issues" } }
            h1 { (project.name) " releases" }
            form.filters method="get" action=(releases_path(project)) {
                (super::forms::value_select("Environment", "environment", environment, environments))
                button type="submit" { "Show" }
            }
            @if overview.releases.is_empty() {
                (no_counts_yet())
            } @else {
                section aria-labelledby="chart-title" {
                    h2 #chart-title { "Requests, last " (release_health::CHART_DAYS) " days" }
                    (chart(&overview.hours, &overview.deploys, overview.chart_from))
                }
                section aria-labelledby="list-title" {
                    h2 #list-title { "Releases" }
                    p.muted.small { "Most recently seen first. Failed: 5xx answers and panics over all requests; compared with the release before." }
                    table.releases {
                        thead { tr {
                            th scope="col" { "Release" }
                            th scope="col" { "Seen" }
                            th.num scope="col" { "Requests" }
                            th.num scope="col" { "Failed" }
                            th.num scope="col" { "Crash-free" }
                            th.num scope="col" { "New issues" }
                            th scope="col" { "Against the one before" }
                        } }
                        tbody {
                            @for release in &overview.releases {
                                @let f = &release.figures;
                                tr {
                                    td.wrap { a href=(release_path(project, &release.version, environment)) { (release.version) }
                                        @if let Some(at) = release.deployed_at { br; span.small.muted { "deployed " (when(at)) } } }
                                    td { @if let (Some(first), Some(last)) = (f.first_seen, f.last_seen) { (when(first)) " – " (when(last)) } @else { span.muted { "no requests counted" } } }
                                    td.num { (f.requests) }
                                    td.num { span.label-sm { "failed " } (percent(f.failure_rate)) }
                                    td.num { span.label-sm { "crash-free " } (percent(f.crash_free_rate)) }
                                    td.num { span.label-sm { "new issues " } (release.new_issues) }
                                    td { (comparison(f, release.previous.as_deref(), release.previous_failure_rate)) }
                                }
                            }
                        }
                    }
                }
            }
            (after_deploying(project))
        },
    )
}

/// What to do when no release has request counts yet.
fn no_counts_yet() -> Markup {
    html! {
        p.muted { "No release has sent request counts yet. With the reporter, set "
            code { "MAYDAY_REQUEST_COUNTS=1" } " (or " code { ".request_counts(true)" }
            "); official SDKs send sessions by themselves (Python: "
            code { "auto_session_tracking" } ", Node: " code { "autoSessionTracking" } ")." }
    }
}

/// The step after deploying, as the README says.
fn after_deploying(project: &project::Model) -> Markup {
    html! {
        section aria-labelledby="deploy-title" {
            h2 #deploy-title { "After deploying" }
            pre.wrap { code {
                "mayday-collector deploy record --project " (project.name) " --release 2.4.0 --environment production\n"
                "mayday-collector deploy check --project " (project.name) " --release 2.4.0 --environment production --wait 10m"
            } }
            p.muted.small { "Exit 0: nothing got worse. 1: something did (each reason named). 2: not enough requests yet when the wait ended. Add "
                code { "--url http://collector --token TOKEN" } " to ask a collector over the network." }
        }
    }
}

/// `up from 0.66% in 2.3.9`, or why there is nothing to compare.
fn comparison(figures: &Figures, previous: Option<&str>, previous_rate: Option<f64>) -> Markup {
    match (previous, previous_rate) {
        (Some(previous), Some(rate)) => {
            let worse = figures.failure_rate > rate;
            html! {
                span class=[worse.then_some("error")] {
                    @if worse { "up from " } @else if figures.failure_rate < rate { "down from " } @else { "as " }
                    (percent(rate)) " in " (previous)
                }
            }
        }
        (Some(previous), None) => html! { span.muted { (previous) " counted no requests" } },
        (None, _) => html! { span.muted { "none before" } },
    }
}

fn release_markup(
    signed_in: &SignedIn,
    project: &project::Model,
    detail: &ReleaseDetail,
    check: &Check,
    environment: Option<&str>,
) -> Markup {
    let f = &detail.figures;
    let chart_from = detail.hours.first().map_or(0, |h| h.0);
    layout::page(
        &format!("{} {}", project.name, detail.version),
        signed_in,
        html! {
            p { a href=(releases_path(project)) { "← " (project.name) " releases" } }
            h1.wrap { "Release " (detail.version) @if let Some(e) = environment { " " small.muted { "in " (e) } } }
            (verdict(check))
            table.kv {
                tr { th scope="row" { "Seen" } td { @if let (Some(a), Some(b)) = (f.first_seen, f.last_seen) { (when(a)) " – " (when(b)) } @else { "no requests counted" } } }
                tr { th scope="row" { "Requests" } td { (f.requests) } }
                tr { th scope="row" { "Failed" } td { (percent(f.failure_rate)) " (" (f.errored) " 5xx, " (f.crashed) " panics)" } }
                tr { th scope="row" { "Crash-free" } td { (percent(f.crash_free_rate)) } }
                tr { th scope="row" { "The release before" } td {
                    @match &detail.previous {
                        Some(p) => { a href=(release_path(project, &p.name, environment)) { (p.name) } ": " (percent(p.failure_rate)) " failed of " (p.requests) " requests, " (percent(p.crash_free_rate)) " crash-free" }
                        None => { span.muted { "none" } }
                    }
                } }
                tr { th scope="row" { "Deploys" } td {
                    @if detail.deploys.is_empty() { span.muted { "none recorded (the first request counts as the deploy)" } }
                    @for d in &detail.deploys { (d.environment) " " (when(d.deployed_at)) br; }
                } }
            }
            @if !detail.hours.is_empty() {
                section aria-labelledby="chart-title" {
                    h2 #chart-title { "Requests per hour" }
                    (chart(&detail.hours, &detail.deploys, chart_from))
                }
            }
            section aria-labelledby="routes-title" {
                h2 #routes-title { "Routes, worst first" }
                @if detail.routes.is_empty() { p.muted { "No requests counted." } } @else {
                    table.routes {
                        thead { tr { th scope="col" { "Route" } th.num scope="col" { "Requests" } th.num scope="col" { "Failed" } th.num scope="col" { "Crashes" } } }
                        tbody {
                            @for r in &detail.routes {
                                tr {
                                    td.wrap { code { @if r.name.is_empty() { "(not named)" } @else { (r.name) } } }
                                    td.num { (r.requests) }
                                    td.num { span.label-sm { "failed " } (percent(r.failure_rate)) }
                                    td.num { span.label-sm { "crashes " } (r.crashed) }
                                }
                            }
                        }
                    }
                }
            }
            (issue_list("New issues in this release", "new-title", &detail.new_issues))
            (issue_list("Came back in this release", "regressed-title", &detail.regressions))
        },
    )
}

/// The deploy check's verdict with its reasons, each linked.
fn verdict(check: &Check) -> Markup {
    let (class, words) = match check.verdict {
        Verdict::Pass => ("notice", "Deploy check: pass"),
        Verdict::Fail => ("notice error", "Deploy check: fail"),
        Verdict::NotEnoughData => ("notice", "Deploy check: not enough requests yet"),
    };
    html! {
        section class=(class) aria-label="Deploy check" {
            strong { (words) }
            @if let Some(previous) = &check.previous { span.muted { " against " (previous) } }
            ul {
                @for reason in &check.reasons {
                    li.wrap { a href=(reason.link) { (reason.text) } }
                }
            }
            details { summary { "The rule" } p.small { (check.rule) } }
        }
    }
}

fn issue_list(title: &str, id: &str, issues: &[release_health::IssueRef]) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (title) " " span.muted { "(" (issues.len()) ")" } }
            @if issues.is_empty() { p.muted { "None." } }
            ul { @for issue in issues { li.wrap { a href=(issue.link) { (issue.title) } } } }
        }
    }
}

/// Requests per hour as bars (failed part in red), a line at each deploy, from
/// `from` to now; the deploys named below it (the chart itself scales to the width,
/// so it carries no text).
fn chart(hours: &[(i64, i64, i64)], deploys: &[DeployRef], from: i64) -> Markup {
    const HOUR: i64 = 3_600_000;
    let now = crate::store::now_ms();
    let slots = ((now - from) / HOUR + 1).clamp(1, 24 * 90);
    let max = hours.iter().map(|h| h.1).max().unwrap_or(0).max(1);
    let (width, height) = (slots as f64, 120.0_f64);
    let x = |at: i64| ((at - from) / HOUR) as f64;
    let requests: i64 = hours.iter().map(|h| h.1).sum();
    let failed: i64 = hours.iter().map(|h| h.2).sum();
    html! {
        figure.chart {
            div.y-axis aria-hidden="true" { span { (max) } span { (max / 2) } span { "0" } }
            svg.chart.health width="100%" height="120" viewBox={ "0 0 " (width) " " (height) } preserveAspectRatio="none" role="img"
                aria-label={ (requests) " requests, " (failed) " failed, per hour since " (format::exact(from)) "; " (deploys.len()) " deploys marked" } {
                @for (hour, n, bad) in hours {
                    @let h = *n as f64 * (height - 2.0) / max as f64;
                    @let b = *bad as f64 * (height - 2.0) / max as f64;
                    rect.ok x=(x(*hour)) y=(height - h) width="0.9" height=(h) {}
                    @if *bad > 0 { rect.failed x=(x(*hour)) y=(height - b.max(1.0)) width="0.9" height=(b.max(1.0)) {} }
                }
                @for d in deploys {
                    line.deploy x1=(x(d.deployed_at)) x2=(x(d.deployed_at)) y1="0" y2=(height) vector-effect="non-scaling-stroke" {}
                }
            }
            div.x-axis aria-hidden="true" { span { (format::exact(from)) } span { "now" } }
            figcaption {
                span.legend-ok { "■" } " requests " span.legend-failed { "■" } " failed " span.legend-deploy { "|" } " deploys"
                @if !deploys.is_empty() {
                    ": " @for (i, d) in deploys.iter().enumerate() { @if i > 0 { ", " } (d.release) " to " (d.environment) " " (when(d.deployed_at)) }
                }
            }
        }
    }
}
