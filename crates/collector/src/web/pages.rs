//! Page templates. maud escapes every interpolated value, so event data is always text.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::session::SignedIn;
use crate::issues::{self, ListQuery};
use crate::store::entities::{affected_user, audit_entry, issue, project};
use crate::store::{
    Breakdown, EventLevel, EventLinks, IssueStatus, ProjectSummary, StoredEvent, now_ms,
};

/// The stylesheet, served from the binary.
pub const STYLESHEET: &str = r#"
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0969da; --bad: #cf222e; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; background: #24292f; color: #fff; flex-wrap: wrap; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header form { margin-left: auto; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.level { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .8rem; background: var(--bg2); }
.level-fatal, .level-error { background: #ffebe9; color: var(--bad); }
.tabs a { margin-right: 1rem; }
.tabs a.current { font-weight: 700; text-decoration: none; color: var(--fg); }
form.filters { display: flex; gap: .5rem; flex-wrap: wrap; margin: .8rem 0; }
input, select, button { font: inherit; padding: .3rem .5rem; }
button { cursor: pointer; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
pre { background: var(--bg2); padding: .6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.frame { padding: .2rem .4rem; border-left: 3px solid var(--line); margin: .1rem 0; }
.frame.in-app { border-left-color: var(--accent); background: #f1f8ff; }
section { margin: 1.4rem 0; }
.actions form { display: inline; }
.actions form.snooze { display: block; margin-top: .5rem; }
#snooze-count { width: 6rem; }
h1.issue-title { font-size: 1.5rem; overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
.login { max-width: 22rem; margin: 4rem auto; }
.login label { display: block; margin: .6rem 0 .2rem; }
.login input { width: 100%; }
.error { color: var(--bad); }
.notice { padding: .5em; border-left: 3px solid var(--accent); }
form.inline { display: inline; }
svg.chart rect { fill: var(--accent); }
.breakdown { display: flex; gap: 2rem; flex-wrap: wrap; }
.breakdown > div { min-width: 16rem; }
nav.events { margin: 1rem 0 0; }
.wrap, span.value, summary { overflow-wrap: anywhere; }
svg.chart { max-width: 100%; height: auto; }
pre { max-width: 100%; }
h2.exception { margin-bottom: .2rem; }
.stack { margin: .6rem 0; }
details.frame { padding: .2rem .4rem; }
details.frame > summary { cursor: pointer; }
pre.source { margin: .3rem 0; padding: .3rem .4rem; white-space: pre; overflow-x: auto; }
pre.source mark { display: block; background: #fff8c5; }
.lineno { display: inline-block; min-width: 3.5em; color: var(--muted); user-select: none; }
table.kv th { width: 12rem; overflow-wrap: anywhere; }
table.kv td { overflow-wrap: anywhere; }
details.long > summary { cursor: pointer; }
details.long .show { color: var(--accent); white-space: nowrap; }
.badge.regressed { padding: .4rem .6rem; background: #fff1e5; border-left: 3px solid #bc4c00; }
ol.history { padding-left: 1.2rem; }
.comment-body { white-space: pre-wrap; overflow-wrap: anywhere; padding: .2rem .5rem; border-left: 3px solid var(--line); margin: .2rem 0; }
textarea { font: inherit; width: 100%; max-width: 40rem; display: block; margin: .2rem 0 .4rem; }
.tabs .count { display: inline-block; min-width: 1.4em; padding: 0 .3rem; border-radius: 8px; background: var(--bg2); font-size: .8rem; text-align: center; }
.onboarding { padding: .8rem 1rem; border: 1px solid var(--line); border-radius: 6px; }
.snippets { display: flex; gap: 1rem; flex-wrap: wrap; }
.snippets > div { flex: 1 1 22rem; min-width: 0; }
.snippets pre { white-space: pre-wrap; }
a.skip { position: absolute; left: -10000px; top: .3rem; background: #fff; padding: .3rem .6rem; z-index: 10; }
a.skip:focus { left: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
form.filters label { display: inline-flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
form.filters label .label { margin-bottom: .1rem; }
form.filters input[type=search] { min-width: 18rem; max-width: 100%; }
form.filters select { max-width: 14rem; }
form.filters button { align-self: flex-end; }
#search-help { margin: -.4rem 0 .8rem; font-size: .85rem; }
form#bulk { margin: .4rem 0; }
table.issues td.what { max-width: 0; width: 50%; }
code.trunc { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
code.trunc:hover, code.trunc:focus { white-space: normal; overflow-wrap: anywhere; }
.badge.small { font-size: .75rem; padding: 0 .3rem; border-radius: 3px; background: #fff1e5; color: #bc4c00; }
.cardlabel { display: none; }
nav.pager { margin: 1rem 0; }
nav.pager a { margin-right: 1rem; }
@media (max-width: 600px) {
  form.filters input[type=search] { min-width: 0; width: 100%; }
  form.filters label { flex: 1 1 100%; }
  form.filters select { max-width: none; width: 100%; }
  table.issues thead { display: none; }
  table.issues, table.issues tbody, table.issues tr { display: block; width: 100%; }
  table.issues tr { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; padding: .4rem; }
  table.issues td { display: inline-block; border: 0; padding: .1rem .3rem; }
  table.issues td.what { display: block; max-width: none; width: auto; }
  table.issues td.pick { float: right; }
  table.issues td.wide { display: none; }
  .cardlabel { display: inline; color: var(--muted); }
}
.notice.failed { border-left-color: var(--bad); background: #ffebe9; }
.status-sent { color: #1a7f37; }
.mon { padding: 0 .4rem; border-radius: 3px; font-size: .85rem; }
.mon-ok { background: #dafbe1; color: #1a7f37; }
.mon-bad { background: #ffebe9; color: var(--bad); font-weight: 600; }
.mon-pending { background: #eaeef2; color: var(--muted); }
svg.strip, svg.chart { max-width: 100%; height: auto; display: block; margin: .3rem 0; }
.stack label { display: block; margin: .3rem 0; }
.stack input[name], .stack textarea { box-sizing: border-box; width: 100%; max-width: 40rem; }
.stack input[type=checkbox], .stack input[type=number] { width: auto; }
form.inline { display: inline; }
article.preview { border: 1px solid var(--line); border-radius: 6px; padding: .5rem; margin: .5rem 0; }
@media (max-width: 600px) {
  table.monitors, table.results, table.users { display: block; overflow-x: auto; }
}
.status-failed { color: var(--bad); font-weight: 600; }
.status-retrying { color: #9a6700; }
@media (max-width: 700px) { .wide { display: none; } main { padding: .5rem; } table.kv th { width: auto; } }
@media print { header, .noprint, form, button { display: none !important; } main { max-width: none; } details > *:not(summary) { display: block; } pre { white-space: pre-wrap; } }
"#;

/// A signed-in page with the common header, for other page modules.
pub(super) fn page(title: &str, signed_in: &SignedIn, body: Markup) -> Markup {
    layout(title, Some(signed_in), body)
}

fn layout(title: &str, signed_in: Option<&SignedIn>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Mayday" }
                link rel="stylesheet" href="/static/mayday.css";
                script src="/static/copy.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a href="/" { "Mayday" }
                    @if let Some(signed_in) = signed_in {
                        @if signed_in.account.is_admin { a href="/admin/users" { "Users" } }
                        a href="/account" { "Account" }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(signed_in.csrf);
                            span class="muted" { (signed_in.account.email) " " }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// A page for someone who is not signed in (the unsubscribe page).
pub(super) fn public_page(title: &str, body: Markup) -> Markup {
    layout(title, None, body)
}

/// A page that only says something.
pub fn message_page(status: StatusCode, message: &str) -> Markup {
    layout(
        status.canonical_reason().unwrap_or("Error"),
        None,
        html! { h1 { (status.as_u16()) } p { (message) } p { a href="/" { "Back to projects" } } },
    )
}

/// What the sign-in form shows and carries.
#[derive(Debug)]
pub struct SignInForm<'a> {
    /// The form token (see `preauth`).
    pub csrf: &'a str,
    /// Where to go after signing in (a path on this site).
    pub next: Option<&'a str>,
    /// What went wrong, or why the form is shown.
    pub error: Option<&'a str>,
}

/// Sign in.
pub fn login_page(form: &SignInForm<'_>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            form.login method="post" action="/login" {
                h1 { "Sign in" }
                @if let Some(error) = form.error { p.error { (error) } }
                input type="hidden" name="csrf" value=(form.csrf);
                @if let Some(next) = form.next { input type="hidden" name="next" value=(next); }
                label for="email" { "Email" }
                input #email type="email" name="email" autocomplete="username" required;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { "Sign in" } }
            }
        },
    )
}

/// First run: create the admin account.
pub fn setup_page(error: Option<&str>, csrf: &str) -> Markup {
    layout(
        "Set up",
        None,
        html! {
            form.login method="post" action="/setup" {
                h1 { "Create the admin account" }
                p.muted { "No one can sign in yet. The first account is an admin." }
                @if let Some(error) = error { p.error { (error) } }
                input type="hidden" name="csrf" value=(csrf);
                label for="email" { "Email" }
                input #email type="email" name="email" required;
                label for="name" { "Name" }
                input #name type="text" name="name";
                label for="password" { "Password (8 characters or more)" }
                input #password type="password" name="password" minlength="8" required;
                p { button type="submit" { "Create and sign in" } }
            }
        },
    )
}

/// `3 minutes ago`, from milliseconds.
fn relative(ms: i64) -> String {
    let ahead = (ms - now_ms()) / 1000;
    if ahead > 0 {
        return match ahead {
            0..=59 => format!("in {ahead} s"),
            60..=3599 => format!("in {} min", ahead / 60),
            _ => format!("in {} h", ahead / 3600),
        };
    }
    let seconds = (now_ms() - ms).max(0) / 1000;
    match seconds {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

fn exact(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// A time as "3 min ago" (or "in 2 min"), its exact value on hover.
pub(super) fn when(ms: i64) -> Markup {
    html! { time datetime=(exact(ms)) title=(exact(ms)) { (relative(ms)) } }
}

fn plural(count: i64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn level(level: EventLevel) -> Markup {
    html! { span class={ "level level-" (level) } { (level) } }
}

/// Projects with their unresolved issues and recent events.
pub fn projects_page(
    signed_in: &SignedIn,
    rows: &[(project::Model, ProjectSummary)],
    error: Option<&str>,
) -> Markup {
    layout(
        "Projects",
        Some(signed_in),
        html! {
            h1 { "Projects" }
            @if let Some(error) = error { p.notice.failed role="alert" { (error) } }
            @if rows.is_empty() {
                p.muted { "You are not a member of any project yet." }
            } @else {
                table {
                    thead { tr { th { "Project" } th.num { "Unresolved issues" } th.num { "Events, last 24 h" } } }
                    tbody {
                        @for (project, summary) in rows {
                            tr {
                                td { a href={ "/projects/" (project.id) "/issues" } { (project.name) } }
                                td.num { (summary.unresolved_issues) }
                                td.num { (summary.events_last_day) }
                            }
                        }
                    }
                }
            }
            @if signed_in.account.is_admin {
                section #new-project {
                    h2 { "New project" }
                    form method="post" action="/projects" {
                        input type="hidden" name="csrf" value=(signed_in.csrf);
                        label for="project-name" { "Name " }
                        input #project-name type="text" name="name" required maxlength="100" placeholder="shop";
                        " " button type="submit" { "Create" }
                    }
                }
            }
        },
    )
}

/// What the issue list shows.
pub struct ListView<'a> {
    /// Who is looking.
    pub signed_in: &'a SignedIn,
    /// The project.
    pub project: &'a project::Model,
    /// The tab.
    pub status: IssueStatus,
    /// The query as sent (filters, order).
    pub query: &'a ListQuery,
    /// Whether the viewer may change the project's settings (then they are linked).
    pub manages: bool,
    /// Where this page starts.
    pub offset: u64,
    /// The page's issues.
    pub issues: &'a [issue::Model],
    /// Events per day of each issue, last 14 days.
    pub bars: &'a std::collections::HashMap<i64, Vec<u64>>,
    /// Where the next page starts, if there is one.
    pub next_offset: Option<u64>,
    /// Issues per status, for the tabs.
    pub counts: &'a std::collections::HashMap<IssueStatus, i64>,
    /// For a project without issues: how to send the first event.
    pub first_event: Option<Markup>,
    /// Events turned away in the last hour, if any.
    pub rejected: Markup,
    /// The project's environments, for the filter.
    pub environments: &'a [String],
    /// The project's releases, for the filter.
    pub releases: &'a [String],
}

/// The issue list of a project.
pub fn issue_list_page(view: &ListView<'_>) -> Markup {
    let ListView {
        signed_in,
        project,
        status,
        query,
        issues,
        bars,
        ..
    } = *view;
    let base = format!("/projects/{}/issues", project.id);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let previous = (view.offset > 0)
        .then(|| query.link(&base, status, view.offset.saturating_sub(issues::PAGE_SIZE)));
    let next = view.next_offset.map(|next| query.link(&base, status, next));
    layout(
        &project.name,
        Some(signed_in),
        html! {
            h1 { (project.name) " " small { a href={ "/projects/" (project.id) "/monitors" } { "monitors" } } @if view.manages { " " small { a href={ "/projects/" (project.id) "/settings" } { "settings" } } } }
            (view.rejected)
            nav.tabs aria-label="Issue status" {
                @for tab in [IssueStatus::Unresolved, IssueStatus::Resolved, IssueStatus::Ignored] {
                    a class=[(tab == status).then_some("current")] href={ (base) "?status=" (tab) } aria-current=[(tab == status).then_some("page")] {
                        (tab) " " span.count { (tab_count(view.counts.get(&tab).copied().unwrap_or(0))) }
                    }
                }
            }
            form.filters method="get" action=(base) role="search" {
                input type="hidden" name="status" value=(status);
                label { span.label { "Search" }
                    input type="search" name="query" placeholder="checkout user.email:jane@example.com is:regressed" value=(text(&query.query)) aria-describedby="search-help"; }
                (value_select("Environment", "environment", query.environment.as_deref(), view.environments))
                (value_select("Release", "release", query.release.as_deref(), view.releases))
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
                    li { "Words: found in the title, the culprit, a tag value or the message of its events (all of them)." }
                    li { code { "user.email:jane@example.com" } ": issues that affected this user." }
                    li { code { "release:shop@2.4.1" } ", " code { "environment:production" } ": issues with events there." }
                    li { code { "level:error" } " (fatal, error, warning, info, debug)." }
                    li { code { "is:regressed" } ": issues that came back after being resolved." }
                    li { "Quote values with spaces: " code { "release:\"shop 2.4\"" } "." }
                }
            }
            @if let Some(first_event) = &view.first_event {
                (first_event)
            } @else if issues.is_empty() {
                p.muted { "No " (status) " issues." }
            } @else {
                form #bulk method="post" action={ (base) "/bulk" } {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="back" value=(query.link(&base, status, view.offset));
                    span.muted { "Selected: " }
                    @for (to, label) in issues::actions(status) {
                        button type="submit" name="status" value=(to) { (label) }
                        " "
                    }
                    button type="submit" name="merge" value="1" title="Merge the selected issues into the one with the most events" { "Merge" }
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

/// "12", or "1000+" at the cap.
fn tab_count(count: i64) -> String {
    if count >= crate::store::STATUS_COUNT_CAP {
        format!("{}+", crate::store::STATUS_COUNT_CAP)
    } else {
        count.to_string()
    }
}

/// A labelled select of the project's values for a filter, "All" first; a value asked
/// for but not among them stays selected.
pub(super) fn value_select(
    label: &str,
    name: &str,
    current: Option<&str>,
    values: &[String],
) -> Markup {
    let current = current.filter(|c| !c.is_empty());
    html! {
        label { span.label { (label) }
            select name=(name) {
                option value="" selected[current.is_none()] { "All" }
                @if let Some(current) = current.filter(|c| !values.iter().any(|v| v == c)) {
                    option value=(current) selected { (current) }
                }
                @for value in values {
                    option value=(value) selected[current == Some(value.as_str())] { (value) }
                }
            }
        }
    }
}

/// Events per day as an inline SVG bar chart (no script, no external resources).
fn bar_chart(counts: &[u64], width: u32, height: u32) -> Markup {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let n = u32::try_from(counts.len()).unwrap_or(1).max(1);
    let step = (width / n).max(1);
    let total: u64 = counts.iter().sum();
    html! {
        svg.chart width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } role="img" {
            title { (total) " events, one bar a day" }
            @for (i, count) in counts.iter().enumerate() {
                @let h = u32::try_from(count * u64::from(height) / max).unwrap_or(height).max(u32::from(*count > 0));
                rect x=(u32::try_from(i).unwrap_or(0) * step) y=(height - h) width=(step.saturating_sub(1).max(1)) height=(h) {
                    title { (count) }
                }
            }
        }
    }
}

/// What the issue page shows.
pub struct IssueView<'a> {
    /// Who is looking.
    pub signed_in: &'a SignedIn,
    /// The project.
    pub project: &'a project::Model,
    /// The issue.
    pub issue: &'a issue::Model,
    /// Its affected users.
    pub users: &'a [affected_user::Model],
    /// The event shown.
    pub event: Option<&'a StoredEvent>,
    /// Events per day, last 30 days.
    pub chart: &'a [u64],
    /// Stored events by release and by environment.
    pub breakdown: &'a Breakdown,
    /// Links to other events.
    pub links: &'a EventLinks,
    /// Its status changes, oldest first.
    pub history: &'a [audit_entry::Model],
    /// Why its events are grouped together, in a line.
    pub grouping: &'a str,
    /// The event as Markdown, for "copy as Markdown".
    pub markdown: &'a str,
    /// Its latest notifications and where each stands.
    pub deliveries: &'a [crate::store::entities::outbox::Model],
    /// The issues merged into it.
    pub merged: &'a [issue::Model],
    /// The team's comments, oldest first.
    pub comments: &'a [crate::store::entities::issue_comment::Model],
    /// The messages the team wrote to its users.
    pub contacted: &'a [crate::store::entities::outreach_message::Model],
}

fn breakdown(title: &str, rows: &[(Option<String>, i64)]) -> Markup {
    html! {
        div {
            h3 { (title) }
            table { tbody { @for (value, count) in rows {
                tr { td.wrap { (value.clone().unwrap_or_else(|| "(none)".into())) } td.num { (count) } }
            } } }
        }
    }
}

/// `3 days`, a duration in words.
fn duration(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0..=59 => plural(minutes, "minute"),
        60..=2879 => plural(minutes / 60, "hour"),
        _ => plural(minutes / 1440, "day"),
    }
}

/// "Regressed in 2.4.1, 3 days after being resolved by ann@example.com": when the issue
/// came back, in which release, and how long after whom resolved it.
fn regression_badge(issue: &issue::Model, history: &[audit_entry::Model]) -> Markup {
    let Some(regressed_at) = issue.last_regressed_at else {
        return html! {};
    };
    let resolved = history
        .iter()
        .rev()
        .filter(|entry| entry.at <= regressed_at)
        .find(|entry| crate::audit::status_in(&entry.target) == Some(IssueStatus::Resolved));
    html! {
        p.badge.regressed {
            strong { "Regressed" }
            @if let Some(release) = &issue.last_release { " in " code { (release) } }
            " " (when(regressed_at))
            @if let Some(resolved) = resolved {
                ", " (duration(regressed_at - resolved.at)) " after being resolved"
                @if let Some(release) = &issue.resolved_release { " in " code { (release) } }
                " by " (resolved.actor)
            }
            @if issue.regression_count > 1 { " (" (issue.regression_count) " times in all)" }
        }
    }
}

/// What keeps an ignored or resolved issue so: "Ignored until 112 events (now 12)",
/// "Resolved in the release after shop@2.4.0".
fn status_note(issue: &issue::Model) -> Markup {
    html! {
        @if issue.status == IssueStatus::Ignored {
            @if let Some(at) = issue.snooze_until { p.muted { "Ignored until " (exact(at)) "; it comes back by itself then." } }
            @if let Some(events) = issue.snooze_events { p.muted { "Ignored until it has " (events) " events (now " (issue.event_count) ")." } }
            @if let Some(users) = issue.snooze_users { p.muted { "Ignored until it has affected " (users) " users (now " (issue.user_count) ")." } }
        }
        @if issue.status == IssueStatus::Resolved {
            @if let Some(release) = &issue.resolved_in_release {
                p.muted { "Resolved in the release after " code { (release) } ": events of that release or an older one keep it resolved." }
            }
        }
    }
}

/// Created, each status change and by whom, comments, the last regression: oldest
/// first.
fn history_list(
    issue: &issue::Model,
    history: &[audit_entry::Model],
    comments: &[crate::store::entities::issue_comment::Model],
) -> Markup {
    enum Entry<'a> {
        Status(&'a audit_entry::Model),
        Comment(&'a crate::store::entities::issue_comment::Model),
        Regressed(i64),
    }
    let mut entries: Vec<(i64, Entry<'_>)> = history
        .iter()
        .map(|e| (e.at, Entry::Status(e)))
        .chain(comments.iter().map(|c| (c.at, Entry::Comment(c))))
        .chain(issue.last_regressed_at.map(|at| (at, Entry::Regressed(at))))
        .collect();
    entries.sort_by_key(|(at, _)| *at);
    html! {
        ol.history {
            li { "First seen " (when(issue.first_seen))
                @if let Some(release) = &issue.first_release { " in " code { (release) } } }
            @for (_, entry) in &entries {
                @match entry {
                    Entry::Status(entry) => li {
                        @match crate::audit::status_in(&entry.target) {
                            Some(status) => { "Marked " strong { (status) } }
                            None => { (entry.target) }
                        }
                        " by " (entry.actor) " " (when(entry.at))
                    },
                    Entry::Comment(comment) => li.comment {
                        (comment.author) " commented " (when(comment.at)) ":"
                        div.comment-body { (comment.body) }
                    },
                    Entry::Regressed(at) => li { "Regressed " (when(*at)) },
                }
            }
        }
    }
}

/// An issue, debugging first: what broke and where (the event's exception and stack),
/// then its request, user, tags, breadcrumbs, extra and contexts, then the issue's
/// charts, breakdowns, affected users and history.
pub fn issue_page(view: &IssueView<'_>) -> Markup {
    let IssueView {
        signed_in,
        project,
        issue,
        users,
        event,
        ..
    } = *view;
    let base = format!("/projects/{}/issues/{}", project.id, issue.id);
    let actions = issues::actions(issue.status);
    layout(
        &issue.title,
        Some(signed_in),
        html! {
            p.noprint { a href={ "/projects/" (project.id) "/issues" } { "← " (project.name) } }
            h1.issue-title title=(issue.title) { (issue.title) }
            @if let Some(culprit) = &issue.culprit { p { code.trunc title=(culprit) tabindex="0" { (culprit) } } }
            p {
                (level(issue.level)) " "
                strong { (issue.status) } " · "
                (plural(issue.event_count, "event")) " · " (plural(issue.user_count, "user")) " · first seen " (when(issue.first_seen))
                @if let Some(release) = &issue.first_release { " in " code { (release) } }
                " · last seen " (when(issue.last_seen))
                @if let Some(release) = &issue.last_release { " in " code { (release) } }
            }
            (regression_badge(issue, view.history))
            (status_note(issue))
            div.actions.noprint {
                @for (status, label) in actions {
                    form method="post" action={ (base) "/status" } {
                        input type="hidden" name="csrf" value=(signed_in.csrf);
                        input type="hidden" name="status" value=(status);
                        button type="submit" { (label) }
                    }
                    " "
                }
                @if issue.status == IssueStatus::Unresolved {
                    @if let Some(release) = &issue.last_release {
                        form method="post" action={ (base) "/status" } {
                            input type="hidden" name="csrf" value=(signed_in.csrf);
                            input type="hidden" name="status" value="resolved";
                            input type="hidden" name="until" value="next_release";
                            button type="submit" title={ "Events of " (release) " or older keep it resolved" } { "Resolve in next release" }
                        }
                        " "
                    }
                }
                @if event.is_some() {
                    button type="button" data-copy=(view.markdown) { "Copy as Markdown" }
                }
                @if issue.status == IssueStatus::Unresolved {
                    form.snooze method="post" action={ (base) "/status" } {
                        input type="hidden" name="csrf" value=(signed_in.csrf);
                        input type="hidden" name="status" value="ignored";
                        label for="snooze-until" { "Ignore until " }
                        select #snooze-until name="until" {
                            option value="events" { "this many more events" }
                            option value="users" { "this many more users" }
                            option value="date" { "this date" }
                        }
                        " "
                        label.sr-only for="snooze-count" { "How many" }
                        input #snooze-count type="number" name="count" min="1" value="100" size="6";
                        " "
                        label.sr-only for="snooze-date" { "Date" }
                        input #snooze-date type="date" name="date";
                        " " button type="submit" { "Ignore until" }
                    }
                }
            }
            @if let Some(StoredEvent { row, event }) = event {
                nav.events.noprint aria-label="Events of this issue" {
                    @for (label, target) in [("Latest", &view.links.latest), ("Newer", &view.links.newer), ("Older", &view.links.older), ("First", &view.links.first)] {
                        @match target {
                            Some(id) if id != &row.event_id => { a href={ (base) "/events/" (id) } { (label) } }
                            _ => { span.muted { (label) } }
                        }
                        " "
                    }
                    span.muted { "Event " code { (row.event_id) } ", " (exact(row.timestamp)) }
                    " " a href={ (base) "/events" } { "All events" }
                }
                (super::event_view::event_view(row, event))
            }
            section #activity {
                h2 { "Events, last 30 days" }
                (bar_chart(view.chart, 600, 60))
                div.breakdown {
                    (breakdown("By release", &view.breakdown.releases))
                    (breakdown("By environment", &view.breakdown.environments))
                }
            }
            section #users {
                h2 { "Affected users" }
                @if users.iter().any(|u| u.email.is_some()) {
                    p.noprint {
                        a href={ (base) "/outreach" } { "Contact affected users" }
                        @if issue.status == IssueStatus::Unresolved {
                            form.inline method="post" action={ (base) "/status" } {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                input type="hidden" name="status" value="resolved";
                                input type="hidden" name="follow_up" value="1";
                                " · " button type="submit" { "Resolve, and tell the affected users when the fix is live" }
                            }
                        }
                    }
                }
                @if users.is_empty() { p.muted { "No user information in these events." } } @else {
                    table {
                        thead { tr { th { "Id" } th { "Name" } th { "Email" } th.num { "Events" } th { "Last seen" } th { "Written to" } } }
                        tbody {
                            @for user in users {
                                @let message = view.contacted.iter().find(|m| m.user_key == user.user_key);
                                tr {
                                    td.wrap { (user.user_id.clone().unwrap_or_default()) }
                                    td.wrap { (user.name.clone().unwrap_or_default()) }
                                    td.wrap { @if let Some(email) = &user.email {
                                        @if let Some(link) = crate::encode::mailto(email) { a href=(link) { (email) } } @else { (email) }
                                    } }
                                    td.num { (user.event_count) }
                                    td { (when(user.last_seen)) }
                                    td.wrap { @if let Some(message) = message {
                                        (when(message.created_at)) " by " (message.sent_by) " (" (message.kind) ")"
                                    } }
                                }
                            }
                        }
                    }
                }
            }
            section #history {
                h2 { "History" }
                (history_list(issue, view.history, view.comments))
                form.noprint method="post" action={ (base) "/comments" } {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    label for="comment-body" { "Comment" }
                    textarea #comment-body name="body" rows="3" maxlength="5000" required placeholder="What you found, who is on it, the ticket…" {}
                    button type="submit" { "Add comment" }
                }
                @if !view.merged.is_empty() {
                    h3 { "Merged into this issue" }
                    ul.merged { @for other in view.merged {
                        li {
                            span.wrap { (other.title) } " " span.muted { "(" (plural(other.event_count, "event")) " when merged)" } " "
                            form.inline method="post" action={ "/projects/" (project.id) "/issues/" (other.id) "/unmerge" } {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                button type="submit" { "Unmerge" }
                            }
                        }
                    } }
                }
                h3 { "Notifications" }
                (super::deliveries::table(view.deliveries, None, None))
                p.muted { (view.grouping) " " span.wrap { "Fingerprint " code { (issue.fingerprint) } } }
            }
        },
    )
}

/// What the settings page shows.
pub struct SettingsView<'a> {
    /// Who is looking.
    pub signed_in: &'a SignedIn,
    /// The project.
    pub project: &'a project::Model,
    /// Keys with their DSNs.
    pub keys: &'a [(crate::store::entities::project_key::Model, String)],
    /// Notification recipients.
    pub recipients: &'a [String],
    /// Members with their roles.
    pub members: &'a [(
        crate::store::entities::account::Model,
        crate::store::ProjectRole,
    )],
    /// The collector's default rate limit.
    pub default_rate_limit: u64,
    /// Events kept per issue.
    pub retention_events: u64,
    /// Days events are kept.
    pub retention_days: u64,
    /// Webhooks.
    pub webhooks: &'a [crate::store::entities::webhook::Model],
    /// The latest notifications and where each stands.
    pub deliveries: &'a [crate::store::entities::outbox::Model],
    /// Whether email can go out at all (`MAYDAY_SMTP_URL` is set).
    pub smtp_configured: bool,
    /// What the last action said (a test's answer, a new webhook's secret).
    pub notice: Option<SettingsNotice>,
    /// Events turned away in the last hour, if any.
    pub rejected: Markup,
}

/// What the settings page says after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsNotice {
    /// It worked; the text says how (the server's answer).
    Done(String),
    /// It did not; the text says why.
    Failed(String),
    /// A webhook was added; its signing secret is shown this once.
    WebhookAdded {
        /// Its URL.
        url: String,
        /// Its secret.
        secret: String,
    },
}

fn action_form(
    csrf: &str,
    action: &str,
    fields: &[(&str, String)],
    label: &str,
    target: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(target) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value=(action);
            @for (name, value) in fields { input type="hidden" name=(name) value=(value); }
            button type="submit" { (label) }
        }
    }
}

/// Project settings: DSNs and keys, recipients, limits, retention.
pub fn settings_page(view: &SettingsView<'_>) -> Markup {
    let project = view.project;
    let csrf = &view.signed_in.csrf;
    let target = format!("/projects/{}/settings", project.id);
    layout(
        &format!("{} settings", project.name),
        Some(view.signed_in),
        html! {
            p { a href={ "/projects/" (project.id) "/issues" } { "← " (project.name) } }
            h1 { (project.name) " settings" }
            p { a href={ "/projects/" (project.id) "/audit" } { "Audit log" } }
            @match &view.notice {
                Some(SettingsNotice::Done(text)) => { p.notice role="status" { (text) } }
                Some(SettingsNotice::Failed(text)) => { p.notice.failed role="alert" { (text) } }
                Some(SettingsNotice::WebhookAdded { url, secret }) => {
                    p.notice role="status" { "Webhook " code.wrap { (url) } " added. Its signing secret, shown this once: " code { (secret) } " "
                        button type="button" data-copy=(secret) { "Copy" } }
                }
                None => {}
            }
            (view.rejected)
            section {
                h2 { "Keys" }
                table { tbody { @for (key, dsn) in view.keys {
                    tr {
                        td { code { (dsn) } }
                        td { @if key.active { "active" } @else { span.muted { "disabled" } } }
                        td {
                            button type="button" data-copy=(dsn) { "Copy DSN" } " "
                            @if key.active {
                                (action_form(csrf, "disable_key", &[("key_id", key.id.to_string())], "Disable", &target))
                            } @else {
                                (action_form(csrf, "enable_key", &[("key_id", key.id.to_string())], "Enable", &target))
                            }
                        }
                    }
                } } }
                p { (action_form(csrf, "create_key", &[], "Create a key", &target)) }
            }
            section #recipients {
                h2 { "Notification recipients" }
                @if !view.smtp_configured {
                    p.notice.failed role="alert" #smtp-missing {
                        strong { "Email is not configured." } " " code { "MAYDAY_SMTP_URL" }
                        " is not set, so these recipients get nothing: notifications wait in the outbox and fail. Set it (README, Notifications) and restart; webhooks work without it."
                    }
                }
                table { tbody { @for email in view.recipients {
                    tr { td.wrap { (email) } td { (action_form(csrf, "remove_recipient", &[("email", email.clone())], "Remove", &target)) } }
                } } }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="add_recipient";
                    label for="recipient-email" { "Email " }
                    input #recipient-email type="email" name="email" placeholder="team@example.com" required;
                    " " button type="submit" { "Add" }
                }
                @if !view.recipients.is_empty() {
                    p { (action_form(csrf, "test_email", &[], "Send a test email", &target)) " " span.muted { "to every recipient, now; the SMTP server's answer is shown here." } }
                }
            }
            section #webhooks {
                h2 { "Webhooks" }
                p.muted { "Each notification is POSTed as JSON, signed with the webhook's secret (" code { "X-Mayday-Signature" } "); Slack-compatible " code { "text" } " included." }
                table { tbody { @for hook in view.webhooks {
                    tr { td.wrap { code { (hook.url) } }
                        td { (action_form(csrf, "test_webhook", &[("webhook_id", hook.id.to_string())], "Send a test", &target)) " "
                            (action_form(csrf, "remove_webhook", &[("webhook_id", hook.id.to_string())], "Remove", &target)) } }
                } } }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="add_webhook";
                    label for="webhook-url" { "URL " }
                    input #webhook-url type="url" name="url" placeholder="https://hooks.example.com/mayday" required;
                    " " button type="submit" { "Add" }
                }
            }
            section #deliveries {
                h2 { "Recent notifications" }
                (super::deliveries::table(view.deliveries, Some(view.webhooks), Some(project.id)))
            }
            section {
                h2 { "Members" }
                p.muted { "Members see issues and events and resolve them; admins also change these settings." }
                table { tbody { @for (account, role) in view.members {
                    tr { td { (account.email) } td { (role) }
                        td { (action_form(csrf, "remove_member", &[("email", account.email.clone())], "Remove", &target)) } }
                } } }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="add_member";
                    input type="email" name="email" placeholder="Email of an account" required; " "
                    select name="role" { option value="member" { "member" } option value="admin" { "admin" } }
                    " " button type="submit" { "Add or change role" }
                }
            }
            section {
                h2 { "Limits" }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="limits";
                    p { label { "Events per minute per key (0: the default, " (view.default_rate_limit) ") "
                        input type="number" min="0" name="rate_limit" value=(project.rate_limit_per_minute); } }
                    p { label { "Spike notification: more than " input type="number" min="0" name="spike_events" value=(project.spike_threshold);
                        " events in " input type="number" min="1" name="spike_minutes" value=(project.spike_window_minutes); " minutes (0 events: off)" } }
                    button type="submit" { "Save" }
                }
            }
            section {
                h2 { "Retention" }
                form method="post" action=(target) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="action" value="retention";
                    p { label { "Events kept per issue (0: the default, " (view.retention_events) ") "
                        input type="number" min="0" name="retention_events" value=(project.retention_events_per_issue); } }
                    p { label { "Days events are kept (0: the default, " (view.retention_days) ") "
                        input type="number" min="0" name="retention_days" value=(project.retention_days); } }
                    p.muted { "Issue counts include deleted events." }
                    button type="submit" { "Save" }
                }
            }
            (outreach_settings(project, &target, csrf))
        },
    )
}

/// Writing to affected users: on or off, sender, reply-to, weekly most, templates.
fn outreach_settings(project: &project::Model, target: &str, csrf: &str) -> Markup {
    use crate::outreach::{Draft, template};
    use crate::store::OutreachKind;
    let personal = Draft::of(project, OutreachKind::Personal);
    let fixed = Draft::of(project, OutreachKind::Fixed);
    html! {
        section #outreach {
            h2 { "Writing to affected users" }
            form.stack method="post" action=(target) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="outreach";
                label { input type="checkbox" name="outreach_enabled" value="1" checked[project.outreach_enabled]; " The team may write to the users an issue affected" }
                label { span.label { "From (empty: the collector's sender)" } input name="outreach_from" value=(project.outreach_from.clone().unwrap_or_default()) placeholder="Shop <help@shop.example>"; }
                label { span.label { "Reply-to" } input name="outreach_reply_to" value=(project.outreach_reply_to.clone().unwrap_or_default()) placeholder="owner@shop.example"; }
                label { span.label { "Most messages per address in 7 days" } input type="number" min="0" max="100" name="outreach_weekly_limit" value=(project.outreach_weekly_limit); }
                p.muted { "Placeholders: " @for p in template::PLACEHOLDERS { code { (p) } " " } }
                label { span.label { "Message subject" } input name="outreach_subject" value=(personal.subject) maxlength="200"; }
                label { span.label { "Message text" } textarea name="outreach_template" rows="8" { (personal.text) } }
                label { span.label { "\"It's fixed\" subject" } input name="outreach_fixed_subject" value=(fixed.subject) maxlength="200"; }
                label { span.label { "\"It's fixed\" text" } textarea name="outreach_fixed_template" rows="6" { (fixed.text) } }
                button type="submit" { "Save" }
            }
        }
    }
}

/// Accounts, for admins: create, add to projects.
pub fn users_page(
    signed_in: &SignedIn,
    accounts: &[crate::store::entities::account::Model],
    projects: &[project::Model],
    error: Option<&str>,
) -> Markup {
    layout(
        "Users",
        Some(signed_in),
        html! {
            h1 { "Users" }
            @if let Some(error) = error { p.error { (error) } }
            table {
                thead { tr { th { "Email" } th { "Name" } th { "Role" } th { "Status" } th {} } }
                tbody { @for account in accounts {
                    tr { td { (account.email) } td { (account.name.clone().unwrap_or_default()) }
                        td { @if account.is_admin { "instance admin" } @else { "user" } }
                        td { @if account.active { "active" } @else { span.muted { "deactivated" } } }
                        td { @if account.id != signed_in.account.id {
                            form method="post" action="/admin/users" {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                input type="hidden" name="email" value=(account.email);
                                @if account.active {
                                    button type="submit" name="action" value="deactivate" { "Deactivate" }
                                } @else {
                                    button type="submit" name="action" value="activate" { "Reactivate" }
                                }
                                " "
                                button type="submit" name="action" value="remove" { "Remove" }
                            }
                        } }
                    }
                } }
            }
            section {
                h2 { "Create a user" }
                form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="create";
                    input type="email" name="email" placeholder="Email" required; " "
                    input type="text" name="name" placeholder="Name"; " "
                    input type="password" name="password" placeholder="Password (8+)" minlength="8" required; " "
                    label { input type="checkbox" name="admin" value="1"; " admin" } " "
                    button type="submit" { "Create" }
                }
            }
            section {
                h2 { "Add a user to a project" }
                form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="add_member";
                    input type="email" name="email" placeholder="Email" required; " "
                    select name="project" { @for project in projects { option value=(project.name) { (project.name) } } } " "
                    select name="role" { option value="member" { "member" } option value="admin" { "project admin" } } " "
                    button type="submit" { "Add" }
                }
            }
            section {
                h2 { "Remove a user from a project" }
                form method="post" action="/admin/users" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="remove_member";
                    input type="email" name="email" placeholder="Email" required; " "
                    select name="project" { @for project in projects { option value=(project.name) { (project.name) } } } " "
                    button type="submit" { "Remove" }
                }
            }
        },
    )
}

/// What the account page says above its sections.
#[derive(Debug, Clone, Copy)]
pub enum AccountNote<'a> {
    /// Nothing.
    None,
    /// A token just created, shown this once.
    NewToken(&'a str),
    /// A change went through.
    Done(&'a str),
    /// A mistake to fix.
    Error(&'a str),
}

/// One's own account: API tokens, password, sessions.
pub fn account_page(
    signed_in: &SignedIn,
    tokens: &[crate::store::entities::api_token::Model],
    note: AccountNote<'_>,
) -> Markup {
    layout(
        "Account",
        Some(signed_in),
        html! {
            h1 { "Your account" }
            @match note {
                AccountNote::None => {},
                AccountNote::NewToken(token) => p.notice {
                    "Your new token (copy it now; it is not shown again): " code { (token) }
                },
                AccountNote::Done(message) => p.notice { (message) },
                AccountNote::Error(message) => p.error { (message) },
            }
            section {
                h2 { "API tokens" }
                table {
                    thead { tr { th { "Name" } th { "Created" } th { "Last used" } th {} } }
                    tbody { @for token in tokens {
                        tr {
                            td { @if token.name.is_empty() { span.muted { "(no name)" } } @else { (token.name) } }
                            td { (when(token.created_at)) }
                            td { @match token.last_used_at { Some(at) => (when(at)), None => span.muted { "never" } } }
                            td { form method="post" action="/account" {
                                input type="hidden" name="csrf" value=(signed_in.csrf);
                                input type="hidden" name="action" value="revoke_token";
                                input type="hidden" name="token_id" value=(token.id);
                                button type="submit" { "Revoke" }
                            } }
                        }
                    } }
                }
                form method="post" action="/account" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="create_token";
                    input type="text" name="name" placeholder="Where it is used" maxlength="100"; " "
                    button type="submit" { "Create a token" }
                }
            }
            section {
                h2 { "Password" }
                form method="post" action="/account" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="change_password";
                    input type="password" name="current" placeholder="Current password" autocomplete="current-password" required; " "
                    input type="password" name="new" placeholder="New password (8+)" autocomplete="new-password" minlength="8" required; " "
                    button type="submit" { "Change" }
                }
            }
            section {
                h2 { "Sessions" }
                form method="post" action="/account" {
                    input type="hidden" name="csrf" value=(signed_in.csrf);
                    input type="hidden" name="action" value="sign_out_elsewhere";
                    button type="submit" { "Sign out everywhere else" }
                }
            }
        },
    )
}

/// A project's audit log: who changed what, and when.
pub fn audit_page(
    signed_in: &SignedIn,
    project: &project::Model,
    entries: &[crate::store::entities::audit_entry::Model],
) -> Markup {
    layout(
        &format!("{} audit log", project.name),
        Some(signed_in),
        html! {
            h1 { (project.name) " audit log" }
            p { a href={ "/projects/" (project.id) "/settings" } { "Back to settings" } }
            @if entries.is_empty() { p.muted { "No changes yet." } }
            @else {
                table {
                    thead { tr { th { "When" } th { "Who" } th { "What" } th { "To" } } }
                    tbody { @for entry in entries {
                        tr { td { (when(entry.at)) } td { (entry.actor) } td { (entry.action) } td { (entry.target) } }
                    } }
                }
            }
        },
    )
}
