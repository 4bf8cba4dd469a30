//! An issue's page, around its latest event or the one asked for: debugging first
//! (the exception and stack), then the request, the user, the issue's charts,
//! breakdowns, affected users, history, comments and notifications.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::WebError;
use super::format::{bar_chart, duration, exact, level, linkify, plural, when};
use super::layout::{self, html};
use super::session::SignedIn;
use crate::access;
use crate::issues;
use crate::state::AppState;
use crate::store::entities::{affected_user, audit_entry, issue, project};
use crate::store::{Breakdown, EventLinks, IssueStatus, StoredEvent};

/// `GET /projects/{id}/issues/{issue}`: the issue around its latest event.
pub(super) async fn page(
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

/// `GET /projects/{id}/issues/{issue}/events/{event}`: the issue around one of its
/// events.
pub(super) async fn event_page(
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

/// `GET /projects/{id}/events/{event}`: the event of that id (32 hex digits, dashes
/// allowed, or the 8 an error page shows) on its issue's page.
pub(super) async fn event_by_id(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((project_id, event_id)): Path<(i64, String)>,
) -> Result<Response, WebError> {
    access::visible_project(&state.store, &signed_in.account, project_id).await?;
    match issues::find_event(&state.store, project_id, &event_id).await? {
        issues::EventLookup::Found(event) => Ok(Redirect::to(&format!(
            "/projects/{project_id}/issues/{}/events/{}",
            event.issue_id, event.event_id
        ))
        .into_response()),
        issues::EventLookup::Ambiguous => Err(WebError::BadRequest(format!(
            "More than one event's id starts with {event_id}: use more of it."
        ))),
        issues::EventLookup::NotFound | issues::EventLookup::NotAnId => Err(WebError::NotFound),
    }
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
    let feedback = state.store.issue_feedback(project.id, issue.id, 20).await?;
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
    let members: Vec<_> = state
        .store
        .members(project.id)
        .await?
        .into_iter()
        .map(|(account, _)| account)
        .collect();
    let new_ticket = project.ticket_template.as_deref().map(|template| {
        let link = format!(
            "{}/projects/{}/issues/{}",
            state.config.base_url(),
            project.id,
            issue.id
        );
        crate::tickets::new_ticket_url(template, issue, &link)
    });
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
        super::event::markdown(&issue.title, &link, &stored.row, &stored.event)
    });
    Ok(html(markup(&IssueView {
        signed_in,
        project,
        issue,
        users: &users,
        feedback: &feedback,
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
        members: &members,
        new_ticket: new_ticket.as_deref(),
    })))
}

/// What the issue page shows.
struct IssueView<'a> {
    /// Who is looking.
    signed_in: &'a SignedIn,
    /// The project.
    project: &'a project::Model,
    /// The issue.
    issue: &'a issue::Model,
    /// Its affected users.
    users: &'a [affected_user::Model],
    /// What the people it hit wrote, newest first.
    feedback: &'a [crate::store::entities::feedback::Model],
    /// The event shown.
    event: Option<&'a StoredEvent>,
    /// Events per day, last 30 days.
    chart: &'a [u64],
    /// Stored events by release and by environment.
    breakdown: &'a Breakdown,
    /// Links to other events.
    links: &'a EventLinks,
    /// Its status changes, oldest first.
    history: &'a [audit_entry::Model],
    /// Why its events are grouped together, in a line.
    grouping: &'a str,
    /// The event as Markdown, for "copy as Markdown".
    markdown: &'a str,
    /// Its latest notifications and where each stands.
    deliveries: &'a [crate::store::entities::outbox::Model],
    /// The issues merged into it.
    merged: &'a [issue::Model],
    /// The team's comments, oldest first.
    comments: &'a [crate::store::entities::issue_comment::Model],
    /// The messages the team wrote to its users.
    contacted: &'a [crate::store::entities::outreach_message::Model],
    /// The project's members, whom it may be assigned to.
    members: &'a [crate::store::entities::account::Model],
    /// The "Create ticket" link, when the project has a template.
    new_ticket: Option<&'a str>,
}

/// Feedback, quoted, each with who wrote it, when, and the event it is about.
pub(super) fn feedback_list(
    feedback: &[crate::store::entities::feedback::Model],
    issue_base: Option<&str>,
) -> Markup {
    html! {
        @for said in feedback {
            figure.feedback {
                blockquote.wrap { (said.message) }
                figcaption.muted.wrap {
                    "— " (said.name.clone().unwrap_or_else(|| "someone".into()))
                    @if let Some(email) = &said.email {
                        " <" @if let Some(link) = crate::encode::mailto(email) { a href=(link) { (email) } } @else { (email) } ">"
                    }
                    ", " (when(said.created_at))
                    @if let (Some(event_id), Some(issue_base)) = (&said.event_id, issue_base) {
                        " · " a href={ (issue_base) "/events/" (event_id) } { "their event" }
                    }
                }
            }
        }
    }
}

/// Who owns the issue (and the rule that said so), a form to assign it, its ticket
/// or a link to create one.
fn ownership(view: &IssueView<'_>, base: &str) -> Markup {
    let issue = view.issue;
    let assignee = view
        .members
        .iter()
        .find(|m| Some(m.id) == issue.assignee_id);
    html! {
        div.owner {
            form method="post" action={ (base) "/assign" } {
                input type="hidden" name="csrf" value=(view.signed_in.csrf);
                label for="assignee" { "Assigned to " }
                select #assignee name="assignee" {
                    option value="" selected[assignee.is_none()] { "nobody" }
                    @for member in view.members {
                        option value=(member.email) selected[Some(member.id) == issue.assignee_id] { (member.email) }
                    }
                }
                " " button type="submit" { "Assign" }
            }
            @if let Some(rule) = &issue.owner_rule {
                p.muted.wrap { "By the ownership rule " code { (rule) } }
            }
            p {
                @if let Some(ticket) = &issue.ticket_url {
                    "Ticket: " a.wrap href=(ticket) rel="noopener noreferrer" { (ticket) }
                } @else if let Some(new_ticket) = view.new_ticket {
                    a href=(new_ticket) target="_blank" rel="noopener noreferrer" { "Create ticket" }
                }
            }
            details.snooze {
                summary { @if issue.ticket_url.is_some() { "Change the ticket" } @else { "Link a ticket" } }
                form method="post" action={ (base) "/ticket" } {
                    input type="hidden" name="csrf" value=(view.signed_in.csrf);
                    label for="ticket-url" { "The ticket's URL (empty: unlink) " }
                    input #ticket-url type="url" name="url" value=(issue.ticket_url.clone().unwrap_or_default()) placeholder="https://github.com/acme/shop/issues/42";
                    " " button type="submit" { "Save" }
                }
            }
        }
    }
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
                        div.comment-body { (linkify(&comment.body)) }
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
fn markup(view: &IssueView<'_>) -> Markup {
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
    layout::page(
        &issue.title,
        signed_in,
        html! {
            p.noprint { a href={ "/projects/" (project.id) "/issues" } { "← " (project.name) } }
            h1.issue-title title=(issue.title) { (issue.title) }
            @if let Some(culprit) = &issue.culprit { p { code.trunc title=(culprit) tabindex="0" { (culprit) } } }
            p {
                (level(issue.level)) " "
                strong { (issue.status) } " · "
                (plural(issue.event_count, "event")) " · " a href="#users" { (plural(issue.user_count, "user")) } " · first seen " (when(issue.first_seen))
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
                    details.snooze {
                        summary { "Ignore until…" }
                        form method="post" action={ (base) "/status" } {
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
            }
            @if let Some(StoredEvent { event, .. }) = event {
                (super::event::highlights(event, "#users"))
            }
            @if let Some(latest) = view.feedback.first() {
                p.said-line {
                    a href="#feedback" { (latest.name.clone().unwrap_or_else(|| "Someone".into())) " wrote" }
                    ": " q { (latest.message.chars().take(160).collect::<String>()) }
                    @if view.feedback.len() > 1 { " " span.muted { "(+" (view.feedback.len() - 1) " more)" } }
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
                (super::event::event_view(row, event, &super::event::SourceLinks::of(project, event)))
            }
            @if !view.feedback.is_empty() {
                section #feedback {
                    h2 { "What they said" }
                    (feedback_list(view.feedback, Some(&base)))
                }
            }
            section #owner.noprint {
                h2 { "Owner and ticket" }
                (ownership(view, &base))
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
                                    td.wrap data-label="Id" { (user.user_id.clone().unwrap_or_default()) }
                                    td.wrap data-label="Name" { (user.name.clone().unwrap_or_default()) }
                                    td.wrap { @if let Some(email) = &user.email {
                                        @if let Some(link) = crate::encode::mailto(email) { a href=(link) { (email) } } @else { (email) }
                                    } }
                                    td.num { (user.event_count) }
                                    td data-label="Last seen" { (when(user.last_seen)) }
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
