//! A project's issue list: status tabs with counts, search and filters, sort, pages,
//! bulk actions; for a project without issues, how to send the first event.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::format::{bar_chart, level, sentence, tab_count, when};
use super::layout::{self, html, html_with_status};
use super::session::SignedIn;
use super::{WebError, forms};
use crate::access::{self, Need};
use crate::issues::{self, EventLookup, ListQuery, Tab};
use crate::state::AppState;
use crate::store::entities::{issue, project};
use crate::store::{IssueStatus, StoreError};

/// `GET /projects/{id}/issues`. A search that is an event id opens that event; a search
/// or filter that cannot be run is said above the list, the page otherwise intact.
pub(super) async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(project_id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let project = access::visible_project(&state.store, &signed_in.account, project_id).await?;
    let manages = access::may(&state.store, &signed_in.account, project_id, Need::Manage).await?;
    let mut notice = None;
    if let Some(text) = query.query.as_deref() {
        match issues::find_event(&state.store, project_id, text).await? {
            EventLookup::Found(event) => {
                let to = format!(
                    "/projects/{project_id}/issues/{}/events/{}",
                    event.issue_id, event.event_id
                );
                return Ok(Redirect::to(&to).into_response());
            }
            EventLookup::NotFound => {
                notice = Some(format!(
                    "No event with the id {} in this project; these are the issues whose text has it.",
                    text.trim()
                ));
            }
            EventLookup::Ambiguous => {
                notice = Some(format!(
                    "More than one event's id starts with {}: paste more of it.",
                    text.trim()
                ));
            }
            EventLookup::NotAnId => {}
        }
    }
    // The tabs: open issues unless another tab is asked for.
    let tab = query
        .tab(Tab::Only(IssueStatus::Unresolved))
        .unwrap_or(Tab::Only(IssueStatus::Unresolved));
    let (filter, mut refused) = match query.filter(tab, &signed_in.account.email) {
        Ok(filter) => (Some(filter), None),
        Err(error) => (None, Some(Refused::Mistake(error.to_string()))),
    };
    let page = match &filter {
        Some(filter) => match issues::list(&state.store, project_id, filter).await {
            Ok(page) => page,
            // A search stopped at its time limit, or too many at once: said above the
            // page like a mistake, the rest of the page intact.
            Err(error @ (StoreError::TimedOut(_) | StoreError::Busy)) => {
                refused = Some(Refused::Stopped(error.to_string()));
                issues::Page::default()
            }
            Err(error) => return Err(error.into()),
        },
        None => issues::Page::default(),
    };
    let ids: Vec<i64> = page.issues.iter().map(|i| i.id).collect();
    let bars = state.store.daily_counts(&ids, 14).await?;
    let with_feedback = state.store.issues_with_feedback(project_id, &ids).await?;
    let counts = state.store.status_counts(project_id).await?;
    // No issue at all yet: how to send the first event instead of an empty list.
    let first_event = if counts.is_empty() {
        let keys = state.store.project_keys(project_id).await?;
        let dsn = keys
            .iter()
            .find(|key| key.active)
            .map(|key| state.config.dsn(&key.public_key, project_id));
        Some(super::onboarding::first_event_box(
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
    let members: Vec<_> = state
        .store
        .members(project_id)
        .await?
        .into_iter()
        .map(|(account, _)| account)
        .collect();
    let markup = markup(&ListView {
        members: &members,
        environments: &environments,
        releases: &releases,
        counts: &counts,
        first_event,
        rejected: super::onboarding::rejected_notice(project_id, &rejected),
        signed_in: &signed_in,
        project: &project,
        tab,
        query: &query,
        manages,
        offset: filter.as_ref().map_or(0, |f| f.offset),
        issues: &page.issues,
        bars: &bars,
        with_feedback: &with_feedback,
        next_offset: page.next_offset,
        notice: notice.as_deref(),
        refused: refused.as_ref(),
    });
    Ok(match refused {
        Some(Refused::Mistake(_)) => html_with_status(StatusCode::BAD_REQUEST, markup),
        Some(Refused::Stopped(_)) => html_with_status(StatusCode::SERVICE_UNAVAILABLE, markup),
        None => html(markup),
    })
}

/// Why the list shows no issues for a search, said above the intact page.
#[derive(Debug)]
enum Refused {
    /// The search is written wrong: the text says how (400).
    Mistake(String),
    /// The search was stopped at its time limit, or too many ran at once (503).
    Stopped(String),
}

/// What the issue list shows.
struct ListView<'a> {
    /// Who is looking.
    signed_in: &'a SignedIn,
    /// The project.
    project: &'a project::Model,
    /// The tab.
    tab: Tab,
    /// The query as sent (filters, order).
    query: &'a ListQuery,
    /// Whether the viewer may change the project's settings (then they are linked).
    manages: bool,
    /// The project's members, whom issues may be assigned to.
    members: &'a [crate::store::entities::account::Model],
    /// Where this page starts.
    offset: u64,
    /// The page's issues.
    issues: &'a [issue::Model],
    /// Events per day of each issue, last 14 days.
    bars: &'a std::collections::HashMap<i64, Vec<u64>>,
    /// The issues someone wrote about.
    with_feedback: &'a std::collections::HashSet<i64>,
    /// Where the next page starts, if there is one.
    next_offset: Option<u64>,
    /// Issues per status, for the tabs.
    counts: &'a std::collections::HashMap<IssueStatus, i64>,
    /// For a project without issues: how to send the first event.
    first_event: Option<Markup>,
    /// Events turned away in the last hour, if any.
    rejected: Markup,
    /// The project's environments, for the filter.
    environments: &'a [String],
    /// The project's releases, for the filter.
    releases: &'a [String],
    /// Something to say about the search (an event id not found).
    notice: Option<&'a str>,
    /// Why the search or a filter could not run, if it could not.
    refused: Option<&'a Refused>,
}

/// The issue list of a project.
fn markup(view: &ListView<'_>) -> Markup {
    let ListView {
        signed_in,
        project,
        tab,
        query,
        issues,
        bars,
        ..
    } = *view;
    let base = format!("/projects/{}/issues", project.id);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let previous = (view.offset > 0)
        .then(|| query.link(&base, tab, view.offset.saturating_sub(issues::PAGE_SIZE)));
    let next = view.next_offset.map(|next| query.link(&base, tab, next));
    let all: i64 = view.counts.values().sum();
    layout::page(
        &project.name,
        signed_in,
        html! {
            h1 { (project.name) " " small { a href={ "/projects/" (project.id) "/monitors" } { "monitors" } } @if view.manages { " " small { a href={ "/projects/" (project.id) "/settings" } { "settings" } } } }
            (view.rejected)
            nav.tabs aria-label="Issue status" {
                @for each in Tab::ALL {
                    @let count = match each { Tab::Only(status) => view.counts.get(&status).copied().unwrap_or(0), Tab::All => all };
                    a class=[(each == tab).then_some("current")] href={ (base) "?status=" (each.name()) } aria-current=[(each == tab).then_some("page")] {
                        (each.name()) " " span.count { (tab_count(count)) }
                    }
                }
                a href={ (base) "?status=all&query=assigned%3Ame" } { "Assigned to me" }
                a href={ "/projects/" (project.id) "/feedback" } { "Feedback" }
                a href={ "/projects/" (project.id) "/releases" } { "Releases" }
            }
            form.filters method="get" action=(base) role="search" {
                input type="hidden" name="status" value=(tab.name());
                label { span.label { "Search" }
                    input type="search" name="query" placeholder="checkout user.email:jane@example.com is:regressed" value=(text(&query.query)) aria-describedby="search-help"; }
                (forms::value_select("Environment", "environment", query.environment.as_deref(), view.environments))
                (forms::value_select("Release", "release", query.release.as_deref(), view.releases))
                label { span.label { "Sort" }
                    select name="sort" {
                        @for (value, label) in [("last_seen", "Last seen"), ("first_seen", "First seen"), ("events", "Events"), ("users", "Users")] {
                            option value=(value) selected[query.sort.as_deref().unwrap_or("last_seen") == value] { (label) }
                        }
                    }
                }
                button type="submit" { "Filter" }
            }
            details #search-help {
                summary { "Search syntax" }
                ul {
                    li { "Words: found in the title, the culprit, a tag value or the message of its events, or an affected user's name, email or id (all of them)." }
                    li { "An event id (from an error page: the first 8 characters are enough): opens that event." }
                    li { code { "user:jane@example.com" } " (or the user's id, username or name): issues that affected this user; " code { "user.email:" } " matches the email only." }
                    li { code { "release:shop@2.4.1" } ", " code { "environment:production" } ": issues with events there." }
                    li { code { "level:error" } " (fatal, error, warning, info, debug)." }
                    li { code { "is:regressed" } ": issues that came back after being resolved; " code { "is:unassigned" } ": issues nobody is assigned to." }
                    li { code { "assigned:me" } ", " code { "assigned:jane@example.com" } ": issues assigned to you, to Jane." }
                    li { "Quote values with spaces: " code { "release:\"shop 2.4\"" } "." }
                }
            }
            @match view.refused {
                Some(Refused::Mistake(why)) => {
                    p.notice.failed role="alert" { "This search cannot run: " (why) ". Fix it above; the syntax is under “Search syntax”." }
                }
                Some(Refused::Stopped(why)) => {
                    p.notice.failed role="alert" { (sentence(why)) "." }
                }
                None => {}
            }
            @if let Some(notice) = view.notice { p.notice role="status" { (notice) } }
            @if let Some(first_event) = &view.first_event {
                (first_event)
            } @else if view.refused.is_some() {
            } @else if issues.is_empty() {
                @match tab {
                    Tab::Only(status) => p.muted { "No " (status) " issues." },
                    Tab::All => p.muted { "No issues." },
                }
            } @else {
                form #bulk method="post" action={ (base) "/bulk" } {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="back" value=(query.link(&base, tab, view.offset));
                    span.muted { "Selected: " }
                    @for (to, label) in issues::bulk_actions(tab) {
                        button type="submit" name="status" value=(to) { (label) }
                        " "
                    }
                    button type="submit" name="merge" value="1" title="Merge the selected issues into the one with the most events" { "Merge" }
                    " "
                    label.sr-only for="bulk-assignee" { "Assign the selected issues to" }
                    select #bulk-assignee name="assignee" {
                        option value="" { "nobody" }
                        @for member in view.members { option value=(member.email) { (member.email) } }
                    }
                    " " button type="submit" name="assign" value="1" { "Assign" }
                }
                table.issues {
                    thead { tr {
                        th { span.sr-only { "Select" } } th { "Issue" } th.wide { "Level" } th.num { "Events" } th.num { "Users" }
                        th.wide { "First seen" } th { "Last seen" } th.wide { "14 days" }
                    } }
                    tbody {
                        @for issue in issues {
                            tr {
                                td.pick { input type="checkbox" name="issue" value=(issue.id) form="bulk" aria-label={ "Select " (issue.title) }; }
                                td.what {
                                    a.wrap href={ (base) "/" (issue.id) } { (issue.title) }
                                    @if let Some(culprit) = &issue.culprit { br; code.muted.trunc title=(culprit) tabindex="0" { (culprit) } }
                                    @if issue.regression_count > 0 { " " span.badge.small { "regressed" } }
                                    @if view.with_feedback.contains(&issue.id) { " " a.badge.small.said href={ (base) "/" (issue.id) "#feedback" } { "feedback" } }
                                }
                                td.wide { (level(issue.level)) }
                                td.num { span.cardlabel { "events " } (issue.event_count) }
                                td.num { span.cardlabel { "users " } (issue.user_count) }
                                td.wide { (when(issue.first_seen)) }
                                td { span.cardlabel { "last seen " } (when(issue.last_seen)) }
                                td.wide { (bar_chart(bars.get(&issue.id).map_or(&[][..], Vec::as_slice), 84, 24)) }
                            }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if let Some(previous) = &previous { a href=(previous) rel="prev" { "← Newer" } " " }
                @if let Some(next) = &next { a href=(next) rel="next" { "Older →" } }
            }
        },
    )
}
